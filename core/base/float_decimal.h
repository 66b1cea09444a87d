/* A float setting as the short decimal it was written as, for JSON that people
 * read and compare (1e-3f prints as 0.001, not 0.0010000000474974513). */
#ifndef DWS_FLOAT_DECIMAL_H
#define DWS_FLOAT_DECIMAL_H

/* v rounded to 7 significant digits: a setting typed with up to FLT_DIG (6)
 * significant digits comes back exactly as typed. */
double dws_float_decimal(float v);

#endif
