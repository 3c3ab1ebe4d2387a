import type { ApolloServerPlugin } from "@apollo/server";
import { ApolloArmor } from "@escape.tech/graphql-armor";
import type { ParseOptions, ValidationRule } from "graphql";
import type { SecurityConfig } from "./config";

/**
 * graphql-armor (Escape) protections: depth, aliases, directives, tokens and cost limits, and no
 * "Did you mean …?" field suggestions (they leak the schema even with introspection off).
 * Token count is enforced by graphql-js's parser (maxTokens).
 * Rejections are validation errors (400 GRAPHQL_VALIDATION_FAILED); the limits are not echoed.
 */
export function graphqlLimits(limits: SecurityConfig["graphql"]): { plugins: ApolloServerPlugin[]; validationRules: ValidationRule[]; parseOptions: ParseOptions } {
  const armor = new ApolloArmor({
    blockFieldSuggestion: { enabled: true },
    maxDepth: { enabled: true, n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true, exposeLimits: false },
    maxAliases: { enabled: true, n: limits.maxAliases, exposeLimits: false },
    maxDirectives: { enabled: true, n: limits.maxDirectives, exposeLimits: false },
    // Armor's Apollo token plugin turns every syntax error into a 500; graphql-js's own parser
    // limit (parseOptions.maxTokens) gives the proper 400 GRAPHQL_PARSE_FAILED instead.
    maxTokens: { enabled: false },
    costLimit: { enabled: true, maxCost: limits.maxCost, ignoreIntrospection: true, flattenFragments: true, exposeLimits: false },
  });
  const { plugins, validationRules } = armor.protect();
  return { plugins, validationRules, parseOptions: { maxTokens: limits.maxTokens } };
}
