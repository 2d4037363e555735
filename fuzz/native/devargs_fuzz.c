/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: a device string as a runtime source may hand it to the
 * dataplane (at most VIO4WD_DEVICE_LEN - 1 characters, as the C# side
 * enforces), through our parsing of its device name (and DPDK's devargs
 * parser under it).
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rte_dev.h>

#include "vio4wd.h"
#include "devname.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char devargs[VIO4WD_DEVICE_LEN];
	char name[RTE_DEV_NAME_MAX_LEN];

	if (size >= sizeof(devargs))
		return 0;
	memcpy(devargs, data, size);
	devargs[size] = '\0';
	(void)device_name_of(devargs, name, sizeof(name));
	return 0;
}
