package main

import (
	"fmt"
	"os"
)

// openStudio opens the GUI. The studio is not built yet.
func openStudio(args []string) int {
	fmt.Fprintln(os.Stderr, "deskbot: the studio (GUI) is not built yet; use the command line:")
	usage()
	return 2
}
