/**
 * Every GraphQL document the reader sends, as named constants (a conformance test validates each one
 * against the reconstructed schema). Texts follow the SDK's documents (wandb-api.md §2); where the SDK's
 * form selects fields we must not ask for (`user { apiKeys }`, first-party only), the smaller classic
 * form is used.
 */

/** Default entity of the key's owner (SDK `GetDefaultEntity`). */
export const GET_DEFAULT_ENTITY = `query GetDefaultEntity {
  viewer {
    id
    entity
  }
}`;

/** Projects of an entity (classic `Projects` form; Relay paging on `models.pageInfo`). */
export const LIST_PROJECTS = `query ListProjects($entity: String, $cursor: String, $perPage: Int = 50) {
  models(entityName: $entity, after: $cursor, first: $perPage) {
    edges {
      node {
        ...ProjectFragment
      }
      cursor
    }
    pageInfo {
      endCursor
      hasNextPage
    }
  }
}

fragment ProjectFragment on Project {
  id
  name
  entityName
  createdAt
  isBenchmark
}`;

const RUN_FRAGMENT = `fragment RunFragment on Run {
  id
  tags
  name
  displayName
  sweepName
  state
  config
  group
  jobType
  commit
  readOnly
  createdAt
  heartbeatAt
  description
  notes
  systemMetrics
  summaryMetrics
  historyLineCount
  user {
    name
    username
  }
  historyKeys
}`;

/**
 * Runs of a project with the SDK's full `RunFragment` (`Api.runs(lazy=False)`); next cursor = last edge's
 * cursor. Beyond the SDK's fragment it carries `fileCount` and `eventsLineCount` (both in the schema:
 * the SDK's `RunFiles` and `RunResumeStatus` select them), so a run's fetch plan knows without a
 * request whether it has files and system-metric rows to ask for.
 */
export const LIST_RUNS = `query Runs($project: String!, $entity: String!, $cursor: String, $perPage: Int = 50, $order: String, $filters: JSONString) {
  project(name: $project, entityName: $entity) {
    internalId
    runCount(filters: $filters)
    readOnly
    runs(filters: $filters, after: $cursor, first: $perPage, order: $order) {
      edges {
        node {
          projectId
          ...RunFragment
          fileCount
          eventsLineCount
        }
        cursor
      }
      pageInfo {
        endCursor
        hasNextPage
      }
    }
  }
}

${RUN_FRAGMENT}`;

/** One run (`Api.run()`). */
export const GET_RUN = `query Run($project: String!, $entity: String!, $name: String!) {
  project(name: $project, entityName: $entity) {
    run(name: $name) {
      projectId
      ...RunFragment
    }
  }
}

${RUN_FRAGMENT}`;

/** A page of a run's files, as the SDK's `RunFiles` selects them (shared with the batched run documents). */
export const FILE_EDGES = `fragment FileEdges on FileConnection {
  edges {
    node {
      id
      name
      url(upload: false)
      directUrl
      sizeBytes
      mimetype
      updatedAt
      md5
    }
    cursor
  }
  pageInfo {
    endCursor
    hasNextPage
  }
}`;

/** Files of a run (SDK `RunFiles`); `fileNames: [name]` looks one file up. */
export const RUN_FILES = `query RunFiles($project: String!, $entity: String!, $name: String!, $fileCursor: String, $fileLimit: Int = 50, $fileNames: [String] = [], $pattern: String) {
  project(name: $project, entityName: $entity) {
    internalId
    run(name: $name) {
      fileCount
      ...RunFilesFragment
    }
  }
}

fragment RunFilesFragment on Run {
  files(names: $fileNames, after: $fileCursor, first: $fileLimit, pattern: $pattern) {
    ...FileEdges
  }
}

${FILE_EDGES}`;

/** `historyKeys.lastStep` (SDK `lastHistoryStep`), re-read before a history scan so a live run's tail is not cut. */
export const RUN_HISTORY_KEYS = `query RunHistoryKeys($project: String!, $entity: String!, $name: String!) {
  project(name: $project, entityName: $entity) {
    run(name: $name) {
      historyKeys
    }
  }
}`;

/** Full rows of `[minStep, maxStep)`; the window is never wider than `pageSize`, so nothing is sampled. */
export const HISTORY_PAGE = `query HistoryPage($entity: String!, $project: String!, $run: String!, $minStep: Int64!, $maxStep: Int64!, $pageSize: Int!) {
  project(name: $project, entityName: $entity) {
    run(name: $run) {
      history(minStep: $minStep, maxStep: $maxStep, samples: $pageSize)
    }
  }
}`;

/** The parquet export (wandb-core `RunParquetHistory`): signed URLs plus the `_step`s not exported yet. */
export const RUN_PARQUET_HISTORY = `query RunParquetHistory($entity: String!, $project: String!, $runName: String!, $liveKeys: [String!]!) {
  project(name: $project, entityName: $entity) {
    run(name: $runName) {
      parquetHistory(liveKeys: $liveKeys) {
        parquetUrls
        liveData
      }
    }
  }
}`;

/** How many system-metric rows the run holds. */
export const RUN_EVENTS_COUNT = `query RunEventsCount($project: String!, $entity: String!, $name: String!) {
  project(name: $project, entityName: $entity) {
    run(name: $name) {
      eventsLineCount
    }
  }
}`;

/** System metrics through GraphQL (SDK `RunFullHistory`, `stream="system"` variant): sampled by the server. */
export const RUN_EVENTS = `query RunFullHistory($project: String!, $entity: String!, $name: String!, $samples: Int) {
  project(name: $project, entityName: $entity) {
    run(name: $name) {
      events(samples: $samples)
    }
  }
}`;

/** Every document, by name, for the conformance test. */
export const ALL_QUERIES: Readonly<Record<string, string>> = {
  GET_DEFAULT_ENTITY,
  LIST_PROJECTS,
  LIST_RUNS,
  GET_RUN,
  RUN_FILES,
  RUN_HISTORY_KEYS,
  HISTORY_PAGE,
  RUN_PARQUET_HISTORY,
  RUN_EVENTS_COUNT,
  RUN_EVENTS,
};
