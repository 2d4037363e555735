/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef VIO4WD_DEVNAME_H
#define VIO4WD_DEVNAME_H

#include <stddef.h>

/* Copies the device name of 'devargs' into 'name'; -EINVAL (with the
 * error text set) when DPDK cannot parse it. */
int device_name_of(const char *devargs, char *name, size_t len);

#endif /* VIO4WD_DEVNAME_H */
