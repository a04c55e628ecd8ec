/* A stand-in for Windows' bcryptprimitives.dll, which Wine 8.0 lacks: Go's
 * runtime imports ProcessPrng from it. A fixture of the Wine test stage
 * only (winetest builds it with mingw into a throwaway Wine prefix); it is
 * never shipped. */
#include <windows.h>
#include <ntsecapi.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
	while (len > 0) {
		ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
		if (!RtlGenRandom(data, n))
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}
