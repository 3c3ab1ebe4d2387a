import { gql, type TypedDocumentNode } from "@apollo/client";
import { API_KEY_FIELDS, type ApiKeyFields } from "../api-key-fields";

export type ApiKeyExpiration = "NEVER" | "DAYS_7" | "DAYS_30" | "DAYS_90" | "DAYS_180" | "DAYS_365";

export interface ToolSettings {
  apiKeysEnabled: boolean;
  sessionKeysEnabled: boolean;
  apiKeyExpiration: ApiKeyExpiration;
}

export type MyApiKey = ApiKeyFields;

export interface MyApiKeysPage {
  myApiKeysPage: { nodes: MyApiKey[]; totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}

export const TOOL_SETTINGS: TypedDocumentNode<{ externalToolSettings: ToolSettings }, Record<string, never>> = gql`
  query AccessSettings {
    externalToolSettings {
      apiKeysEnabled
      sessionKeysEnabled
      apiKeyExpiration
    }
  }
`;

export const KEYS_PAGE_SIZE = 50;

export const MY_API_KEYS: TypedDocumentNode<MyApiKeysPage, { first: number; after?: string | null }> = gql`
  query MyApiKeys($first: Int!, $after: String) {
    myApiKeysPage(first: $first, after: $after) {
      nodes {
        ...ApiKeyFields
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

export const GENERATE_API_KEY: TypedDocumentNode<
  { generateApiKey: { key: string; apiKey: MyApiKey } },
  { description: string | null; readOnly: boolean; idempotencyKey: string }
> = gql`
  mutation GenerateApiKey($description: String, $readOnly: Boolean, $idempotencyKey: String) {
    generateApiKey(description: $description, readOnly: $readOnly, idempotencyKey: $idempotencyKey) {
      key
      apiKey {
        ...ApiKeyFields
      }
    }
  }
  ${API_KEY_FIELDS}
`;

export const GENERATE_SESSION_KEY: TypedDocumentNode<{ generateSessionKey: string }, { description: string | null }> = gql`
  mutation GenerateSessionKey($description: String) {
    generateSessionKey(description: $description)
  }
`;

export const DELETE_MY_API_KEY: TypedDocumentNode<{ deleteMyApiKey: boolean }, { id: string }> = gql`
  mutation DeleteMyApiKey($id: ID!) {
    deleteMyApiKey(id: $id)
  }
`;

const EXPIRY_DAYS: Record<ApiKeyExpiration, number | null> = {
  NEVER: null,
  DAYS_7: 7,
  DAYS_30: 30,
  DAYS_90: 90,
  DAYS_180: 180,
  DAYS_365: 365,
};

/** "This key will expire in 30 days." / "This key will not expire." */
export function expiryNotice(expiration: ApiKeyExpiration): string {
  const days = EXPIRY_DAYS[expiration];
  return days === null ? "This key will not expire." : `This key will expire in ${days} days.`;
}

/** A fresh idempotency key per dialog: a retried Generate returns the same key instead of a second one. */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
