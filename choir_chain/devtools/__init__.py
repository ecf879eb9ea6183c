"""Tools for tests and benchmarks that are not part of any service (`faulty_rpc`: a misbehaving RPC provider)."""
