package gpt2

import (
	"unsafe"

	"golang.org/x/sys/windows"
)

var procGetLogicalProcessorInformationEx = windows.NewLazySystemDLL("kernel32.dll").NewProc("GetLogicalProcessorInformationEx")

// physicalCores counts the processor-core records Windows reports
// (RelationProcessorCore); 0 when unknown.
func physicalCores() int {
	const relationProcessorCore = 0
	var size uint32
	procGetLogicalProcessorInformationEx.Call(relationProcessorCore, 0, uintptr(unsafe.Pointer(&size)))
	if size == 0 || size > 1<<24 {
		return 0
	}
	buf := make([]byte, size)
	r, _, _ := procGetLogicalProcessorInformationEx.Call(relationProcessorCore, uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&size)))
	if r == 0 {
		return 0
	}
	n := 0
	for off := uint32(0); off+8 <= size; {
		// SYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX: Relationship uint32, Size uint32, ...
		rel := *(*uint32)(unsafe.Pointer(&buf[off]))
		sz := *(*uint32)(unsafe.Pointer(&buf[off+4]))
		if sz == 0 {
			break
		}
		if rel == relationProcessorCore {
			n++
		}
		off += sz
	}
	return n
}
