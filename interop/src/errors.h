/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef VIO4WD_ERRORS_H
#define VIO4WD_ERRORS_H

/*
 * Record a failure for vio4wd_last_error() and return -err, so callers can
 * write "return set_error(EINVAL, "...", ...);".
 */
int set_error(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void clear_error(void);

#endif /* VIO4WD_ERRORS_H */
