// OpenBLAS: CBLAS for dense products, and the LAPACK routines CompSeg uses (Fortran symbols
// exported by Debian's libopenblas; declared here because lapacke.h is a separate package).
#include <cblas.h>

void ssyevd_(const char *jobz, const char *uplo, const int *n, float *a, const int *lda, float *w,
             float *work, const int *lwork, int *iwork, const int *liwork, int *info);
void sgesdd_(const char *jobz, const int *m, const int *n, float *a, const int *lda, float *s,
             float *u, const int *ldu, float *vt, const int *ldvt, float *work, const int *lwork,
             int *iwork, int *info);
