// A guest's start code (a core module's start function, a reactor's initializer) runs while its
// instance is made, before any call: the same on either engine, what belongs to an invocation
// (key-value, calls between functions) is refused to it, with this trap.

export function startCodeRefusal(what: string): Error {
  return new Error(`${what} is not available while the instance starts (its start code runs before any call): use it from the handler`);
}
