// HDF5: the property-list, access-mode and native-type "constants" are macros that read global
// ids at run time (after H5open), which Swift cannot import as hid_t; these functions return them.
#include <hdf5.h>

static inline hid_t compseg_h5p_default(void) { return H5P_DEFAULT; }

/* A file-access property list with HDF5's file locking off, for a file system that has no locks
   (Lustre without -o flock, NFS without its lock daemon), where HDF5 fails every open otherwise;
   H5P_DEFAULT where this HDF5 (before 1.10.7) cannot turn it off. Closed with H5Pclose unless
   it is H5P_DEFAULT. */
static inline hid_t compseg_fapl_without_locking(void) {
/* H5Pset_file_locking came with 1.10.7 and 1.12.1 (1.12.0 lacks it). */
#if (H5_VERS_MAJOR == 1 && H5_VERS_MINOR == 10 && H5_VERS_RELEASE >= 7) || H5_VERSION_GE(1, 12, 1)
    hid_t list = H5Pcreate(H5P_FILE_ACCESS);
    if (list < 0) return H5P_DEFAULT;
    if (H5Pset_file_locking(list, 0, 1) < 0) { H5Pclose(list); return H5P_DEFAULT; }
    return list;
#else
    return H5P_DEFAULT;
#endif
}
static inline hid_t compseg_h5s_all(void) { return H5S_ALL; }
static inline unsigned compseg_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned compseg_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
/// A group-creation list that records no times, so that the same contents give the same bytes.
static inline hid_t compseg_h5p_group_without_times(void) {
    hid_t plist = H5Pcreate(H5P_GROUP_CREATE);
    if (plist >= 0) H5Pset_obj_track_times(plist, 0);
    return plist;
}
static inline hid_t compseg_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t compseg_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t compseg_h5t_native_uint8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t compseg_h5t_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t compseg_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t compseg_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }

/// Silences HDF5's automatic error stack printing; CompSeg reports errors itself.
static inline void compseg_h5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
/// Empties the calling thread's error stack: the records of a failed call hold identifiers that the
/// library's closing at exit cannot release while they stay ("infinite loop closing library").
static inline void compseg_h5_clear_errors(void) { H5Eclear2(H5E_DEFAULT); }
static inline hid_t compseg_h5p_link_create(void) { return H5P_LINK_CREATE; }
static inline hid_t compseg_h5t_c_s1(void) { return H5T_C_S1; }
static inline size_t compseg_h5t_variable(void) { return H5T_VARIABLE; }
static inline hid_t compseg_h5s_scalar_create(void) { return H5Screate(H5S_SCALAR); }

/// The id of the first filter in `dataset`'s pipeline that this HDF5 library cannot apply (a
/// compression such as LZF, 32000, registered by a plugin it lacks), its name into `name`
/// (`size` bytes); 0 when every filter is available, -1 when the pipeline cannot be read.
static inline int compseg_h5_missing_filter(hid_t dataset, char *name, size_t size) {
    hid_t plist = H5Dget_create_plist(dataset);
    if (plist < 0) return -1;
    int count = H5Pget_nfilters(plist), missing = 0;
    for (int k = 0; k < count && !missing; k++) {
        unsigned flags = 0, config = 0;
        size_t values = 0;
        if (size > 0) name[0] = 0;
        H5Z_filter_t id = H5Pget_filter2(plist, (unsigned)k, &flags, &values, NULL, size, name, &config);
        if (id < 0) { missing = -1; break; }
        if (H5Zfilter_avail(id) <= 0) missing = (int)id;
    }
    H5Pclose(plist);
    return count < 0 ? -1 : missing;
}

/// Called once per dataset by `compseg_h5_visit_datasets` with its path relative to the file root.
typedef void (*compseg_h5_name_fn)(const char *name, void *context);
struct compseg_h5_visit_state { compseg_h5_name_fn found; void *context; };

#if H5_VERSION_GE(1, 12, 0)
static inline herr_t compseg_h5_visit_op(hid_t obj, const char *name, const H5O_info2_t *info, void *data) {
#else
static inline herr_t compseg_h5_visit_op(hid_t obj, const char *name, const H5O_info_t *info, void *data) {
#endif
    (void)obj;
    struct compseg_h5_visit_state *state = (struct compseg_h5_visit_state *)data;
    if (info->type == H5O_TYPE_DATASET) state->found(name, state->context);
    return 0;
}

/// Visits every object under `loc` recursively (H5Ovisit's signature and info struct change
/// between HDF5 1.10 and 1.12, hence C) and reports the datasets' paths. Returns < 0 on failure.
static inline herr_t compseg_h5_visit_datasets(hid_t loc, compseg_h5_name_fn found, void *context) {
    struct compseg_h5_visit_state state = { found, context };
#if H5_VERSION_GE(1, 12, 0)
    return H5Ovisit3(loc, H5_INDEX_NAME, H5_ITER_INC, compseg_h5_visit_op, &state, H5O_INFO_BASIC);
#else
    return H5Ovisit2(loc, H5_INDEX_NAME, H5_ITER_INC, compseg_h5_visit_op, &state, H5O_INFO_BASIC);
#endif
}

/// 1 when the link `name` (relative to `loc`) leads into another file (an external link), 0 when
/// it does not or is not there, < 0 on failure. (H5Lget_info's info struct changed in 1.12.)
static inline int compseg_h5_link_is_external(hid_t loc, const char *name) {
    if (H5Lexists(loc, name, H5P_DEFAULT) <= 0) return 0;
#if H5_VERSION_GE(1, 12, 0)
    H5L_info2_t info;
    if (H5Lget_info2(loc, name, &info, H5P_DEFAULT) < 0) return -1;
#else
    H5L_info_t info;
    if (H5Lget_info(loc, name, &info, H5P_DEFAULT) < 0) return -1;
#endif
    return info.type == H5L_TYPE_EXTERNAL ? 1 : 0;
}

/// 1 when the dataset keeps its values outside the file (external raw-data files, or a virtual
/// dataset mapping other files), 0 when not, < 0 on failure.
static inline int compseg_h5_dataset_is_elsewhere(hid_t dataset) {
    hid_t plist = H5Dget_create_plist(dataset);
    if (plist < 0) return -1;
    int external = H5Pget_external_count(plist);
    H5D_layout_t layout = H5Pget_layout(plist);
    H5Pclose(plist);
    if (external < 0) return -1;
    return external > 0 || layout == H5D_VIRTUAL ? 1 : 0;
}

/// The rank of the dataset's chunks, their dimensions in `dims` (at most `capacity`); 0 when it is
/// not chunked, < 0 on failure.
static inline int compseg_h5_chunk_dims(hid_t dataset, hsize_t *dims, int capacity) {
    hid_t plist = H5Dget_create_plist(dataset);
    if (plist < 0) return -1;
    int rank = H5Pget_layout(plist) == H5D_CHUNKED ? H5Pget_chunk(plist, capacity, dims) : 0;
    H5Pclose(plist);
    return rank;
}

static inline herr_t compseg_h5_refuse_external(const char *parent_file, const char *parent_group, const char *child_file,
                                                const char *child_object, unsigned *flags, hid_t fapl, void *data) {
    (void)parent_file; (void)parent_group; (void)child_file; (void)child_object; (void)flags; (void)fapl; (void)data;
    return -1;
}

/// A dataset-access property list under which no external link is followed, however it is
/// reached (directly, or through a soft link): the caller closes it.
static inline hid_t compseg_h5_dapl_without_external_links(void) {
    hid_t plist = H5Pcreate(H5P_DATASET_ACCESS);
    if (plist >= 0) H5Pset_elink_cb(plist, compseg_h5_refuse_external, NULL);
    return plist;
}
