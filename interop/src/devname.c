/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The device name in a DPDK device string, which names its ethdev port. The
 * string comes from a source the daemon does not trust (an OVSDB row, with
 * the operator's opt-in), so this is a fuzzing target (fuzz/native).
 */

#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <stdbool.h>

#include <rte_common.h>

#include <rte_devargs.h>

#include "errors.h"
#include "devname.h"

/*
 * DPDK 22.11's parser of the layered syntax ("bus=pci,addr=.../class=eth")
 * dereferences the value of a layer key given without one: a string whose
 * first word (after any commas) is a bare "bus" crashed the process (found
 * by fuzz/native/devargs_fuzz.c: "bus", ",bus", "bus,x"). "class" and
 * "driver" are the other layer keys and no device's name either.
 */
static bool
starts_with_bare_layer_key(const char *devargs)
{
	static const char *const keys[] = { "bus", "class", "driver" };
	const char *word = devargs + strspn(devargs, ",");
	size_t n = strcspn(word, ",");
	unsigned int i;

	for (i = 0; i < RTE_DIM(keys); i++)
		if (n == strlen(keys[i]) && strncmp(word, keys[i], n) == 0)
			return true;
	return false;
}

int
device_name_of(const char *devargs, char *name, size_t len)
{
	struct rte_devargs da;
	int ret;

	if (starts_with_bare_layer_key(devargs))
		return set_error(EINVAL, "'%s' is not a DPDK device string", devargs);
	memset(&da, 0, sizeof(da));
	ret = rte_devargs_parse(&da, devargs);
	if (ret < 0)
		return set_error(EINVAL, "'%s' is not a DPDK device string", devargs);
	snprintf(name, len, "%s", da.name);
	rte_devargs_reset(&da);
	return 0;
}
