/**
 * Meta's published lifetimes of the Graph API versions the router may be pointed at — data only,
 * kept in this one file so a new row is a one-line change (see README "Moving Graph API versions").
 *
 * Source: Meta's Graph API changelog, "Available Graph API Versions" (Date Introduced / Available
 * Until), https://developers.facebook.com/docs/graph-api/changelog/versions/ as published on
 * 2026-10-29, and "Introducing Graph API v27.0" (developers.facebook.com/blog, 2026-11-04).
 * Read 2026-12-01. `expires: null` is Meta's "TBD": a version expires two years after its successor
 * ships, and Meta fills the date in only then.
 */
export interface GraphApiVersion {
  readonly version: string;
  /** YYYY-MM-DD, Meta's "Date Introduced". */
  readonly released: string;
  /** YYYY-MM-DD, Meta's "Available Until"; null while Meta says TBD. */
  readonly expires: string | null;
}

/** Newest first. Versions older than the last row expired no later than its date (they expire in order). */
export const GRAPH_API_VERSIONS: readonly GraphApiVersion[] = [
  { version: 'v27.0', released: '2026-11-04', expires: null },
  { version: 'v26.0', released: '2026-07-29', expires: null },
  { version: 'v25.0', released: '2026-02-18', expires: '2028-07-29' },
  { version: 'v24.0', released: '2025-10-08', expires: '2028-02-18' },
  { version: 'v23.0', released: '2025-05-29', expires: '2027-10-08' },
  { version: 'v22.0', released: '2025-01-21', expires: '2027-05-20' },
  { version: 'v21.0', released: '2024-10-02', expires: '2027-01-21' },
  { version: 'v20.0', released: '2024-05-21', expires: '2026-09-24' },
  { version: 'v19.0', released: '2024-01-23', expires: '2026-05-21' },
  { version: 'v18.0', released: '2023-09-12', expires: '2026-01-26' },
  { version: 'v17.0', released: '2023-05-23', expires: '2025-09-12' },
  { version: 'v16.0', released: '2023-02-02', expires: '2025-05-14' },
];

/**
 * What a router with no WHATSAPP_API_VERSION calls: the newest version with a published expiry
 * at least a year after the table was read (v26.0 and v27.0 have no date yet, so nothing could
 * warn before they go). Checked against the Cloud API calls the router makes: see README
 * "Moving Graph API versions".
 */
export const DEFAULT_GRAPH_API_VERSION = 'v25.0';
