/**
 * Local CPU work as the gateway runs it: a pure function of a module, called on one of the gateway's
 * worker threads so that the event loop only ever does I/O. Typed arrays in the input and in the result
 * cross threads by transfer (the sender's views are detached afterwards), everything else by structured
 * clone; a GatewayError thrown by the function reaches the caller as the same GatewayError.
 */

export interface ComputeTask<In = unknown> {
  /**
   * The module exporting the function, as a URL: the `import.meta.url` of that module (a `.ts` file when
   * the gateway runs from source, `.js` when built). It must import nothing that needs the main thread.
   */
  module: string;
  /** The exported function's name: `(input: In) => Out | Promise<Out>`. */
  fn: string;
  input: In;
}

export interface Compute {
  /** Runs a task on a worker thread. Transfers the input's typed-array buffers: do not use them afterwards. */
  run<Out>(task: ComputeTask): Promise<Out>;
}
