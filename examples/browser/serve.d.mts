/** Types of serve.mjs, for test/browser.test.ts. */
export interface DemoServer {
  /** http://localhost:<port>/ */
  url: string;
  port: number;
  /** Every request so far, "METHOD /path?query status". */
  requests: string[];
  close(): Promise<void>;
}

export function startServer(options?: { port?: number; host?: string }): Promise<DemoServer>;

/** The response headers that make a page cross-origin isolated (sent unless ?isolated=0). */
export const ISOLATION: Readonly<Record<string, string>>;
