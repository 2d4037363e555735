/* SPDX-License-Identifier: BSD-3-Clause */

#define _GNU_SOURCE /* nftw() */

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>

#include "vio4wd.h"
#include "errors.h"

static bool eal_running;
static bool eal_attempted;

/*
 * rte_eal_init() permutes argv and some drivers keep pointers into it, so the
 * EAL gets a private copy that lives as long as the process.
 */
static char **eal_argv;
/* rte_eal_init() reorders eal_argv: this keeps every copy reachable. */
static char **eal_argv_owned;

static char **
copy_args(int argc, const char *const argv[])
{
	char **copy;
	int i;

	copy = calloc(argc + 1, sizeof(*copy));
	if (copy == NULL)
		return NULL;
	for (i = 0; i < argc; i++) {
		copy[i] = strdup(argv[i]);
		if (copy[i] == NULL)
			return NULL; /* leaked on purpose: the process is out of memory */
	}
	return copy;
}

static const char *
describe_init_error(int err)
{
	switch (err) {
	case EALREADY:
		return "the DPDK EAL is already initialised in this process (it can be initialised once per process)";
	case EINVAL:
		return "invalid EAL arguments";
	case EACCES:
		return "permission denied (run as root or grant access to hugepages and devices)";
	case ENOMEM:
		return "not enough memory (check hugepages, or use --no-huge -m <MB>)";
	case ENOEXEC:
		return "a driver plugin could not be loaded";
	case ENOTSUP:
		return "the CPU or platform is not supported by this DPDK build";
	case EPROTO:
		return "the EAL could not be configured for the given process type";
	case EFAULT:
		return "the EAL could not read the lcore configuration";
	default:
		return strerror(err);
	}
}

int
vio4wd_eal_init(int argc, const char *const argv[])
{
	int ret;

	clear_error();
	if (argc < 1 || argv == NULL || argv[0] == NULL)
		return set_error(EINVAL, "EAL arguments must start with the program name");
	if (eal_attempted)
		return set_error(EALREADY, "%s", describe_init_error(EALREADY));

	eal_argv = copy_args(argc, argv);
	eal_argv_owned = calloc(argc + 1, sizeof(*eal_argv_owned));
	if (eal_argv == NULL || eal_argv_owned == NULL)
		return set_error(ENOMEM, "out of memory copying EAL arguments");
	memcpy(eal_argv_owned, eal_argv, argc * sizeof(*eal_argv));

	eal_attempted = true;
	ret = rte_eal_init(argc, eal_argv);
	if (ret < 0) {
		int err = rte_errno != 0 ? rte_errno : EINVAL;

		return set_error(err, "%s (rte_errno %d: %s)",
			describe_init_error(err), err, strerror(err));
	}
	eal_running = true;
	return 0;
}

int
vio4wd_eal_is_initialized(void)
{
	return eal_running ? 1 : 0;
}

int
vio4wd_eal_main_lcore(void)
{
	if (!eal_running)
		return set_error(ENODEV, "the DPDK EAL is not running");
	return (int)rte_get_main_lcore();
}

static int
remove_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	remove(path);
	return 0;
}

int
vio4wd_eal_cleanup(void)
{
	char runtime_dir[PATH_MAX];
	int ret;

	clear_error();
	if (!eal_running)
		return set_error(ENODEV, "the DPDK EAL is not running");
	/* rte_eal_cleanup() leaves /var/run/dpdk/<prefix> behind; as the
	 * primary process we own it, so it goes with us. */
	snprintf(runtime_dir, sizeof(runtime_dir), "%s", rte_eal_get_runtime_dir());
	ret = rte_eal_cleanup();
	if (ret < 0)
		return set_error(-ret, "rte_eal_cleanup failed: %s", strerror(-ret));
	eal_running = false;
	if (runtime_dir[0] != '\0')
		nftw(runtime_dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}
