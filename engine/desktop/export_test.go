package desktop

// ResolveTarget is resolveTarget, for the fuzz test.
var ResolveTarget = resolveTarget
