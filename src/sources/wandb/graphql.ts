import { GraphQLError } from '../../core/errors.ts';
import type { HttpClient } from '../../http/client.ts';

/** What a GraphQL call is about, for messages: "runs of acme/vision", "history of acme/vision/ab12cd34". */
export type What = string;

export interface GraphqlTransportOptions {
  http: HttpClient;
  baseUrl: string;
  apiKey: string;
  userAgent?: string;
}

/**
 * The GraphQL layer: `POST {base}/graphql` with Basic `api:<key>`, the SDK's headers, and the standard
 * envelope. A 200 whose body carries `errors` is a GraphQLError with the server's messages; transport
 * failures are the HttpClient's HttpError/NetworkError (retried there). Credentials are attached here
 * and nowhere else, so they can only reach the base host.
 */
export class GraphqlTransport {
  private readonly endpoint: string;
  private readonly headers: Record<string, string>;
  private readonly base: URL;

  constructor(private readonly opts: GraphqlTransportOptions) {
    this.endpoint = `${opts.baseUrl}/graphql`;
    this.base = new URL(opts.baseUrl);
    this.headers = {
      'content-type': 'application/json',
      accept: 'application/json',
      'user-agent': opts.userAgent ?? 'wandb-to-neptune/0.1.0',
      // The SDK sends this on every public-API call; it lets admins read their team's runs.
      'use-admin-privileges': 'true',
      authorization: basicAuth(opts.apiKey),
    };
  }

  /** True when `url` lies under the base URL (scheme, host and path prefix), as the SDK's `LimitTo` rule. */
  isUnderBase(url: string): boolean {
    try {
      const u = new URL(url);
      const prefix = this.base.pathname.replace(/\/+$/, '');
      return u.protocol === this.base.protocol && u.host === this.base.host && (prefix === '' || u.pathname === prefix || u.pathname.startsWith(`${prefix}/`));
    } catch {
      return false;
    }
  }

  /** The Authorization header for a URL under the base URL; nothing for any other host. */
  authHeadersFor(url: string): Record<string, string> {
    return this.isUnderBase(url) ? { authorization: this.headers.authorization } : {};
  }

  async graphql<T>(query: string, variables: Record<string, unknown>, what: What, signal?: AbortSignal): Promise<T> {
    const answer = await this.graphqlPartial<T>(query, variables, what, signal);
    if (answer.errors.length) throw new GraphQLError(what, answer.errors.map((e) => e.message).join('; '));
    if (answer.data === undefined) throw new GraphQLError(what, 'the answer has no data');
    return answer.data;
  }

  /**
   * The whole answer, data and errors side by side: a document with several aliased parts (a batch of
   * runs) can be partly answered, and each error's `path` names the part it belongs to.
   */
  async graphqlPartial<T>(query: string, variables: Record<string, unknown>, what: What, signal?: AbortSignal): Promise<{ data?: T; errors: GraphqlErrorEntry[] }> {
    const body = JSON.stringify({ query, variables });
    const res = await this.opts.http.request({
      method: 'POST',
      url: this.endpoint,
      headers: this.headers,
      body,
      signal,
      what,
    });
    let parsed: { data?: unknown; errors?: unknown };
    try {
      parsed = JSON.parse(res.body.toString('utf8')) as typeof parsed;
    } catch {
      throw new GraphQLError(what, 'the server answered with a body that is not JSON');
    }
    const errors = errorEntries(parsed.errors);
    return parsed.data === undefined || parsed.data === null ? { errors } : { data: parsed.data as T, errors };
  }
}

/** One entry of a GraphQL `errors` list; `path` (when the server gives it) starts at the top-level field or alias. */
export interface GraphqlErrorEntry {
  message: string;
  path?: readonly (string | number)[];
}

export function basicAuth(apiKey: string): string {
  return `Basic ${Buffer.from(`api:${apiKey}`).toString('base64')}`;
}

/** Accepts both backend error shapes: `[{"message": …, "path": […]}]` and `["…"]`. */
function errorEntries(errors: unknown): GraphqlErrorEntry[] {
  if (!Array.isArray(errors)) return [];
  return errors.map((e): GraphqlErrorEntry => {
    if (typeof e === 'string') return { message: e };
    if (e && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string') {
      const path = (e as { path?: unknown }).path;
      const entry: GraphqlErrorEntry = { message: (e as { message: string }).message };
      if (Array.isArray(path) && path.every((p) => typeof p === 'string' || typeof p === 'number')) entry.path = path as (string | number)[];
      return entry;
    }
    return { message: JSON.stringify(e) };
  });
}
