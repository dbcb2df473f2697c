/// Moves a value that is not `Sendable` to the one thread that uses it from then on (the decode
/// thread takes the pipeline): the sender hands it over and never touches it again.
struct ThreadHandoff<Value>: @unchecked Sendable {  // ownership moves: only the receiving thread uses `value`
    let value: Value
}
