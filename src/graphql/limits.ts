import { ApolloArmor } from "@escape.tech/graphql-armor";
import type { ParseOptions, ValidationRule } from "graphql";
import type { SecurityConfig } from "../config/security";

/**
 * graphql-armor (Escape) protections: depth, aliases, directives and cost limits, as validation
 * rules (cached with the validated document, so a repeated query pays nothing). Token count is
 * enforced by graphql-js's parser (maxTokens). Field suggestions are removed from validation
 * errors by withoutFieldSuggestions, called from formatError: armor's own plugin for it would be
 * one more set of hooks Apollo awaits on every request.
 * Rejections are validation errors (400 GRAPHQL_VALIDATION_FAILED); the limits are not echoed.
 */
export interface GraphQLLimits {
  validationRules: ValidationRule[];
  parseOptions: ParseOptions;
}

export function graphqlLimits(limits: SecurityConfig["graphql"]): GraphQLLimits {
  const armor = new ApolloArmor({
    blockFieldSuggestion: { enabled: false },
    maxDepth: { enabled: true, n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true, exposeLimits: false },
    maxAliases: { enabled: true, n: limits.maxAliases, exposeLimits: false },
    maxDirectives: { enabled: true, n: limits.maxDirectives, exposeLimits: false },
    // Armor's Apollo token plugin turns every syntax error into a 500; graphql-js's own parser
    // limit (parseOptions.maxTokens) gives the proper 400 GRAPHQL_PARSE_FAILED instead.
    maxTokens: { enabled: false },
    costLimit: { enabled: true, maxCost: limits.maxCost, ignoreIntrospection: true, flattenFragments: true, exposeLimits: false },
  });
  const { validationRules } = armor.protect();
  return { validationRules, parseOptions: { maxTokens: limits.maxTokens } };
}

const FIELD_SUGGESTION = / ?Did you mean .+\?$/;

/** No "Did you mean …?" in error messages: they leak the schema even with introspection off. */
export function withoutFieldSuggestions<T extends { message: string }>(error: T): T {
  const message = error.message.replace(FIELD_SUGGESTION, "");
  return message === error.message ? error : { ...error, message };
}
