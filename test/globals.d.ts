// Tests read JSON answers loosely: they assert on the shapes, which is the point of the test.
declare global {
  interface Response {
    json(): Promise<any>;
  }
}
export {};
