/*
 * Test-only shim: bcryptprimitives.dll exporting ProcessPrng, for running the Windows build of
 * bitsdoctor under Wine in CI. Never shipped with bitsdoctor.exe.
 *
 * Why it exists: Rust's standard library (1.78 and later) takes its random bytes (HashMap seeds)
 * from bcryptprimitives.dll!ProcessPrng, which every supported Windows has. Wine 8.0 (Debian
 * bookworm's wine64) does not export it, so the loader refuses the exe with status c0000135
 * before main runs. Wine 8 has no bcryptprimitives.dll of its own, so this one, placed beside
 * the exe, is loaded instead; it supplies the one function, filling the buffer from
 * RtlGenRandom (advapi32!SystemFunction036), which Wine does have.
 *
 * Build: x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll processprng.c \
 *        bcryptprimitives.def -ladvapi32      (tests/windows/run.sh does this)
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length); /* RtlGenRandom */

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG n = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, n))
            return FALSE;
        data += n;
        length -= n;
    }
    return TRUE;
}
