/**
 * The GraphQL documents of the admin pages (External Tool Settings, Users, API Keys), typed by hand
 * against schema.graphql so `tsc` checks every use of their data and variables.
 */
import { gql, type TypedDocumentNode } from "@apollo/client";
import { API_KEY_FIELDS, type ApiKeyFields } from "../../api-key-fields";

/** DateTimeISO as it travels: an ISO 8601 string at UTC. */
export type IsoInstant = string;

// ---------------------------------------------------------------------------------------------
// External Tool Settings

export type ApiKeyExpiration = "NEVER" | "DAYS_7" | "DAYS_30" | "DAYS_90" | "DAYS_180" | "DAYS_365";

export interface ExternalToolSettings {
  apiKeysEnabled: boolean;
  sessionKeysEnabled: boolean;
  apiKeyExpiration: ApiKeyExpiration;
  expiredKeyRetentionDays: number;
}

export const SETTINGS_QUERY: TypedDocumentNode<{ externalToolSettings: ExternalToolSettings }, Record<string, never>> = gql`
  query AdminExternalToolSettings {
    externalToolSettings {
      apiKeysEnabled
      sessionKeysEnabled
      apiKeyExpiration
      expiredKeyRetentionDays
    }
  }
`;

export const UPDATE_SETTINGS: TypedDocumentNode<
  { updateExternalToolSettings: ExternalToolSettings },
  { input: Partial<ExternalToolSettings> }
> = gql`
  mutation UpdateExternalToolSettings($input: ExternalToolSettingsInput!) {
    updateExternalToolSettings(input: $input) {
      apiKeysEnabled
      sessionKeysEnabled
      apiKeyExpiration
      expiredKeyRetentionDays
    }
  }
`;

// ---------------------------------------------------------------------------------------------
// Users

export interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}

export interface AdminUser {
  id: string;
  email: string;
  displayName: string | null;
  isAdmin: boolean;
  active: boolean;
  keyCount: number;
  activeKeyCount: number;
  lastActivityAt: IsoInstant | null;
}

export interface UserFilter {
  emailContains?: string | null;
  active?: boolean | null;
  isAdmin?: boolean | null;
}

const ADMIN_USER_FIELDS = gql`
  fragment AdminUserFields on User {
    id
    email
    displayName
    isAdmin
    active
    keyCount
    activeKeyCount
    lastActivityAt
  }
`;

export const USERS_QUERY: TypedDocumentNode<
  { users: { nodes: AdminUser[]; totalCount: number; pageInfo: PageInfo } },
  { filter: UserFilter | null; first: number; after: string | null }
> = gql`
  query AdminUsers($filter: UserFilter, $first: Int!, $after: String) {
    users(filter: $filter, first: $first, after: $after) {
      nodes {
        ...AdminUserFields
      }
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
  ${ADMIN_USER_FIELDS}
`;

export interface CreateUserInput {
  email: string;
  password: string;
  displayName?: string | null;
  isAdmin?: boolean;
}

export const CREATE_USER: TypedDocumentNode<{ createUser: AdminUser }, { input: CreateUserInput }> = gql`
  mutation AdminCreateUser($input: CreateUserInput!) {
    createUser(input: $input) {
      ...AdminUserFields
    }
  }
  ${ADMIN_USER_FIELDS}
`;

export const SET_USER_ACTIVE: TypedDocumentNode<{ setUserActive: AdminUser }, { id: string; active: boolean }> = gql`
  mutation AdminSetUserActive($id: ID!, $active: Boolean!) {
    setUserActive(id: $id, active: $active) {
      ...AdminUserFields
    }
  }
  ${ADMIN_USER_FIELDS}
`;

/** The one-time password comes back here once; it is never cached or stored by the page. */
export const RESET_USER_PASSWORD: TypedDocumentNode<{ resetUserPassword: string }, { id: string }> = gql`
  mutation AdminResetUserPassword($id: ID!) {
    resetUserPassword(id: $id)
  }
`;

export const DELETE_USER: TypedDocumentNode<{ deleteUser: boolean }, { id: string }> = gql`
  mutation AdminDeleteUser($id: ID!) {
    deleteUser(id: $id)
  }
`;

// ---------------------------------------------------------------------------------------------
// API Keys grid

export type ApiKeyOrder = "CREATED_AT_DESC" | "CREATED_AT_ASC" | "LAST_USED_AT_DESC" | "EXPIRES_AT_ASC";

export interface ApiKeyFilter {
  ownerEmail?: string | null;
  descriptionContains?: string | null;
  expired?: boolean | null;
  unusedSince?: IsoInstant | null;
}

export interface GridApiKey extends ApiKeyFields {
  owner: { id: string; email: string; displayName: string | null };
}

export const API_KEYS_QUERY: TypedDocumentNode<
  { apiKeys: { nodes: GridApiKey[]; totalCount: number; pageInfo: PageInfo } },
  { filter: ApiKeyFilter | null; orderBy: ApiKeyOrder; first: number; after: string | null }
> = gql`
  query AdminApiKeys($filter: ApiKeyFilter, $orderBy: ApiKeyOrder!, $first: Int!, $after: String) {
    apiKeys(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
      nodes {
        ...ApiKeyFields
        owner {
          id
          email
          displayName
        }
      }
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
  ${API_KEY_FIELDS}
`;

export const REVOKE_API_KEYS: TypedDocumentNode<{ revokeApiKeys: number }, { ids: string[] }> = gql`
  mutation AdminRevokeApiKeys($ids: [ID!]!) {
    revokeApiKeys(ids: $ids)
  }
`;

/** dryRun: true only counts the keys the filter matches (the count behind "Select all N"). */
export const REVOKE_API_KEYS_WHERE: TypedDocumentNode<
  { revokeApiKeysWhere: number },
  { filter: ApiKeyFilter; dryRun: boolean; all: boolean }
> = gql`
  mutation AdminRevokeApiKeysWhere($filter: ApiKeyFilter!, $dryRun: Boolean!, $all: Boolean!) {
    revokeApiKeysWhere(filter: $filter, dryRun: $dryRun, all: $all)
  }
`;

export const REVOKE_ALL_API_KEYS: TypedDocumentNode<{ revokeAllApiKeys: number }, Record<string, never>> = gql`
  mutation AdminRevokeAllApiKeys {
    revokeAllApiKeys
  }
`;
