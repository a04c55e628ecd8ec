package engine

import "sync/atomic"

// work counts the elementary steps (nodes and edges visited) of Lint,
// Prepare and Flow.Node, so that a test can check that they scale linearly
// with the size of a flow without timing anything.
var work atomic.Int64

func countWork(n int) { work.Add(int64(n)) }
