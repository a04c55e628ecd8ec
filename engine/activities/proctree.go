package activities

import "errors"

// killTree ends a process and, first, every process below it (children
// before their parents, so that none is re-parented out of reach).
func killTree(pid int) error {
	var errs []error
	kids, err := children(pid)
	if err != nil {
		errs = append(errs, err)
	}
	for _, k := range kids {
		if err := killTree(k); err != nil {
			errs = append(errs, err)
		}
	}
	if err := killPid(pid); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
