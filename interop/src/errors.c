/* SPDX-License-Identifier: BSD-3-Clause */

#include <stdarg.h>
#include <stdio.h>

#include "vio4wd.h"
#include "errors.h"

#define ERROR_TEXT_LEN 512

static __thread char last_error[ERROR_TEXT_LEN];

int
set_error(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return err > 0 ? -err : err;
}

void
clear_error(void)
{
	last_error[0] = '\0';
}

const char *
vio4wd_last_error(void)
{
	return last_error;
}
