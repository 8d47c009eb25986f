// HDF5: the property-list, access-mode and native-type "constants" are macros that read global
// ids at run time (after H5open), which Swift cannot import as hid_t; these functions return them.
#include <hdf5.h>

static inline hid_t compseg_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t compseg_h5s_all(void) { return H5S_ALL; }
static inline unsigned compseg_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned compseg_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline hid_t compseg_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t compseg_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t compseg_h5t_native_uint8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t compseg_h5t_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t compseg_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t compseg_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }

/// Silences HDF5's automatic error stack printing; CompSeg reports errors itself.
static inline void compseg_h5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
