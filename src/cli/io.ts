// What a CLI command writes to: the process's streams in production, buffers in tests.
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}
