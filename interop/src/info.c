/* SPDX-License-Identifier: BSD-3-Clause */

#include <rte_config.h>
#include <rte_version.h>

#include "vio4wd.h"

int
vio4wd_abi_version(void)
{
	return VIO4WD_ABI_VERSION;
}

const char *
vio4wd_dpdk_version(void)
{
	return rte_version();
}

unsigned int
vio4wd_max_relays(void)
{
	return RTE_MAX_ETHPORTS;
}

unsigned int
vio4wd_max_lcores(void)
{
	return RTE_MAX_LCORE;
}
