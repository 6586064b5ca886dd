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
