import { gql } from "@apollo/client";

/**
 * What every page shows of a key: the user's own list, the key just generated, the admin grid.
 * One fragment, so a field added to the grid cannot go missing from the list (or the reverse).
 */
export interface ApiKeyFields {
  id: string;
  hint: string;
  description: string | null;
  /** DateTimeISO as it travels: an ISO 8601 string at UTC. */
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  readOnly: boolean;
  expired: boolean;
}

export const API_KEY_FIELDS = gql`
  fragment ApiKeyFields on ApiKey {
    id
    hint
    description
    createdAt
    expiresAt
    lastUsedAt
    readOnly
    expired
  }
`;
