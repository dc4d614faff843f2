/** Schema-checked GraphQL execution against our SDL subset; errors come back as 200 + `errors`. */
import { readFileSync } from 'node:fs';
import { type GraphQLSchema, buildSchema, execute, parse, validate, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import type { Core } from './core.ts';
import { QueryRoot } from './resolvers.ts';

export function loadSchema(): GraphQLSchema {
  return buildSchema(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));
}

export interface GraphqlRequest {
  query?: unknown;
  variables?: unknown;
  operationName?: unknown;
}

export interface GraphqlOutcome {
  operation: string;
  body: unknown;
}

function operationName(doc: DocumentNode, given: unknown): string {
  const ops = doc.definitions.filter((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition');
  const named = typeof given === 'string' && given ? ops.find((o) => o.name?.value === given) : ops[0];
  return named?.name?.value ?? 'anonymous';
}

export async function runGraphql(schema: GraphQLSchema, core: Core, req: GraphqlRequest): Promise<GraphqlOutcome> {
  if (typeof req.query !== 'string') return { operation: 'invalid', body: { errors: [{ message: 'Must provide query string.' }] } };
  let doc: DocumentNode;
  try {
    doc = parse(req.query);
  } catch (e) {
    return { operation: 'invalid', body: { errors: [{ message: (e as Error).message }] } };
  }
  const operation = operationName(doc, req.operationName);
  const errors = validate(schema, doc);
  if (errors.length) return { operation, body: { errors: errors.map((e) => ({ message: e.message, locations: e.locations })) } };
  const variables = req.variables && typeof req.variables === 'object' ? (req.variables as Record<string, unknown>) : undefined;
  // genqlient always sends operationName "" (wandb-api.md §1.5): treat empty as absent
  const opName = typeof req.operationName === 'string' && req.operationName ? req.operationName : undefined;
  const result = await execute({ schema, document: doc, rootValue: new QueryRoot(core), contextValue: core, variableValues: variables, operationName: opName });
  const body: Record<string, unknown> = { data: result.data ?? null };
  if (result.errors?.length) body.errors = result.errors.map((e) => ({ message: e.message, path: e.path }));
  return { operation, body };
}
