package engine

// Work returns the work counter (see countWork).
func Work() int64 { return work.Load() }

// ResetCompileCache empties the expression compile cache, so that a
// benchmark measures compiling.
func ResetCompileCache() {
	cache.Lock()
	cache.m = nil
	cache.Unlock()
}

// InputsForTest returns the inputs the call has recorded (nil when none).
func (c *Call) InputsForTest() map[string]any { return c.inputs }

// PathFuncExamples returns the documented examples of the path functions.
func PathFuncExamples() [][2]string {
	var out [][2]string
	for _, f := range pathFuncs {
		out = append(out, f.examples...)
	}
	return out
}
