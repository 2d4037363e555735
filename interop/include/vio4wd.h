/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libvio4wd: the native dataplane of vio4wd, called from C# (Vio4wd.Dataplane).
 *
 * Conventions of this ABI:
 *  - Functions returning int return 0 on success and a negative errno value
 *    on failure; vio4wd_last_error() then describes the failure in words.
 *  - The error text is per thread: read it on the thread that made the call.
 *  - DPDK control calls are not thread-safe: call every function that touches
 *    the EAL from one control thread.
 */

#ifndef VIO4WD_H
#define VIO4WD_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VIO4WD_API __attribute__((visibility("default")))

/* Bumped whenever a signature below changes; C# refuses a mismatch. */
#define VIO4WD_ABI_VERSION 1

VIO4WD_API int vio4wd_abi_version(void);

/* Version string of the DPDK the library runs against, e.g. "DPDK 22.11.11". */
VIO4WD_API const char *vio4wd_dpdk_version(void);

/* Number of relays this DPDK build allows (RTE_MAX_ETHPORTS). */
VIO4WD_API unsigned int vio4wd_max_relays(void);

/* Highest number of lcores this DPDK build allows (RTE_MAX_LCORE). */
VIO4WD_API unsigned int vio4wd_max_lcores(void);

/*
 * Initialise the DPDK EAL with the given arguments (argv[0] is the program
 * name). The EAL can be initialised once per process: a second call fails
 * with -EALREADY, also after vio4wd_eal_cleanup().
 */
VIO4WD_API int vio4wd_eal_init(int argc, const char *const argv[]);

/* 1 once vio4wd_eal_init() succeeded and until vio4wd_eal_cleanup(). */
VIO4WD_API int vio4wd_eal_is_initialized(void);

/* Main lcore id of the running EAL, or -ENODEV when it is not running. */
VIO4WD_API int vio4wd_eal_main_lcore(void);

/* Release the EAL's resources (hugepages, runtime files, threads). */
VIO4WD_API int vio4wd_eal_cleanup(void);

/* Text describing the last failure on the calling thread ("" if none). */
VIO4WD_API const char *vio4wd_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* VIO4WD_H */
