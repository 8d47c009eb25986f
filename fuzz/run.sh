#!/usr/bin/env bash
# Builds and runs CompSeg's libFuzzer targets (issue 21: bad input never crashes).
#
#   fuzz/run.sh [SECONDS]            build, then run every target SECONDS each (default 30)
#   fuzz/run.sh --runs N [TARGET…]   build, then run each target to N executions (e.g. 1000000)
#   fuzz/run.sh --build              build only
#   fuzz/run.sh --repro TARGET FILE… run inputs once (crash files, regression checks)
#   fuzz/run.sh --list               the targets
#   TARGETS="png tiff" fuzz/run.sh 60   a subset
#
# Every run: one process on one core (libFuzzer's default; -jobs=1 would fork a child that logs to
# ./fuzz-0.log), -rss_limit_mb=1024 (also the malloc limit), -timeout=10,
# new corpus entries kept in fuzz/.build/corpus/TARGET (the committed seeds in fuzz/corpus/TARGET
# are only read), crash/leak/oom/timeout inputs written to fuzz/.build/artifacts/TARGET/.
# Before fuzzing, each target replays the inputs in fuzz/crashes/TARGET (past findings, now fixed).
# Exits 1 when any target crashed, leaked, ran out of memory, timed out or did not build (a target
# skipped for want of Yams is not a failure); prints the input paths.
# FUZZ_FLAGS adds libFuzzer flags (e.g. FUZZ_FLAGS="-fork=1 -ignore_crashes=1 -ignore_ooms=1
# -ignore_timeouts=1" to keep going past known findings and count them).
#
# How targets are built (swiftc directly, never SwiftPM; output only under fuzz/.build, which
# .gitignore's `.build/` already covers):
# - Project modules the targets import are built once as instrumented static libraries with their
#   swiftmodules in fuzz/.build/modules: CKernels and CompSegNN (Sources/), CYaml + Yams (read from
#   .build/checkouts/Yams, which SwiftPM resolves; the YAML target is skipped when it is absent) and
#   CompSegCore (Sources/CompSegCore).
# - Each target is one module: fuzz/TARGET.swift + fuzz/Support.swift + the project files it
#   needs, compiled together, so the harness may call internal API. Files from modules that are not
#   built as libraries here (CompSegIO, CompSegTraining, the CompSegCLI commands, the SpectralFiles
#   plugin) are compiled into the target; where such a file imports a sibling module that is being
#   compiled into the same target, a copy without that `import` line goes to fuzz/.build/src.
# - Everything: swiftc -sanitize=fuzzer,address -O; C (CYaml, CKernels): clang -fsanitize=fuzzer-no-link,address.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
B=fuzz/.build
MOD=$B/modules
SRC=$B/src
SWIFTC=${SWIFTC:-swiftc}
CLANG=${CLANG:-$(dirname "$(command -v "$SWIFTC")")/clang}
SAN=(-sanitize=fuzzer,address)
SWIFT_FLAGS=(-O -g -parse-as-library -swift-version 6 -use-ld=lld)

# System libraries: the module maps in Sources/C*, their headers and libraries.
pc() { pkg-config "$@" 2>/dev/null; }
HDF5_I=$(pc --cflags-only-I hdf5-serial || echo -I/usr/include/hdf5/serial)
HDF5_L=$(pc --libs hdf5-serial || echo "-L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5")
BLAS_I=$(pc --cflags-only-I openblas || echo -I/usr/include/x86_64-linux-gnu/openblas-pthread/)
BLAS_L=$(pc --libs openblas || echo -lopenblas)
xcc() { for f in "$@"; do printf -- '-Xcc\n%s\n' "$f"; done; }
mapfile -t HDF5_X < <(xcc $HDF5_I)
mapfile -t BLAS_X < <(xcc $BLAS_I)
NN_INC=(-I Sources/CDNNL -I Sources/COpenBLAS -I Sources/CKernels/include "${BLAS_X[@]}")  # what importers of CompSegNN need
NN_LINK=(-L$MOD -lCompSegNN -lCKernels -ldnnl -lgomp $BLAS_L)
YAML=.build/checkouts/Yams/Sources

ALL_TARGETS=(manifest envi wire spc fsm agilent textmap numpy safetensors tiff png raster geojson config_json config_yaml hdf5_layout)
[ -n "$(ls Sources/CompSegIO/Raster*.swift 2>/dev/null)" ] || ALL_TARGETS=(${ALL_TARGETS[@]/raster})

# The project files each target compiles in (besides fuzz/TARGET.swift and fuzz/Support.swift),
# its compiler flags and its link flags.
IO=Sources/CompSegIO
# What every reader and writer uses: its errors, folders, durable writes, the signal check and the pixel size files record.
IO_BASE="$IO/IOError.swift $IO/Folders.swift $IO/DurableWrites.swift $IO/Interruption.swift $IO/PixelSize.swift"
INSTRUMENTS=($IO/Instruments/*.swift $IO_BASE $IO/FileSignature.swift)
# Manifest.swift checks mask and truth files whole (MaskFile: PNG rows, GeoJSON polygons) with --skip-unreadable.
MASKS=($IO/MaskFile.swift $IO/GeoJSONMask.swift $IO/PNG.swift $IO/PixelBits.swift $IO/Raster*.swift $IO/PNGChunks.swift)
target_sources() {
    case $1 in
        # Manifest.swift checks files with IO_BASE and FileSignature.swift (among INSTRUMENTS).
        manifest) echo $IO/CSV.swift $IO/CompactJSON.swift ${INSTRUMENTS[@]} ${MASKS[@]} $(noimport Sources/CompSegTraining/Manifest.swift CompSegIO) ;;
        envi|wire|spc|fsm|agilent|textmap|numpy) echo ${INSTRUMENTS[@]} ;;
        safetensors) echo $IO/Safetensors.swift $IO_BASE ;;
        tiff) echo $IO/TIFF.swift $IO_BASE ;;
        raster) echo $IO/Raster*.swift $IO/PNGChunks.swift $IO_BASE $IO/FileSignature.swift $IO/Instruments/InstrumentBytes.swift ;;  # RasterTIFF reads IFD counts with BoundedFile
        png) echo $IO/PNG.swift $IO/PixelBits.swift $IO/Raster*.swift $IO/PNGChunks.swift $IO_BASE $IO/FileSignature.swift $IO/Instruments/InstrumentBytes.swift ;;  # PNG.swift checks palettes by RasterPNG
        geojson) echo $IO/GeoJSONMask.swift $IO/CompactJSON.swift $IO/PixelBits.swift $IO_BASE ;;
        config_json|config_yaml)
            echo $(noimport $(without Sources/CompSegTraining/RunConfiguration.swift 'public func preparedModality')) $(noimport Sources/CompSegTraining/TrainingSettings.swift) \
                 $(without Sources/CompSegTraining/InputRange.swift 'public init?(measuring store') \
                 $IO/CSV.swift $IO/CompactJSON.swift ${INSTRUMENTS[@]} ${MASKS[@]} $(noimport Sources/CompSegTraining/Manifest.swift CompSegIO) \
                 $(extract Sources/CompSegTraining/Batches.swift TrainingError '^public struct TrainingError' '^}') \
                 $(extract Sources/CompSegTraining/InitialWeights.swift InitialWeights '^public struct InitialWeights' '^}') \
                 $(extract Sources/CompSegCLI/Train.swift TrainFile '^    struct File: Codable' '^    }$') ;;
        hdf5_layout) echo $IO/HDF5.swift ${INSTRUMENTS[@]} $(for f in Plugins/Modalities/SpectralFiles/*.swift; do noimport $f; done) ;;
    esac
}
target_flags() {
    case $1 in
        manifest|config_json|config_yaml) echo -I $MOD -I $YAML/CYaml/include "${NN_INC[@]}" -I Sources/CTIFF -I Sources/CPNG ;;
        hdf5_layout) echo -I $MOD -I $YAML/CYaml/include "${NN_INC[@]}" ;;
        safetensors) echo -I $MOD "${NN_INC[@]}" ;;
        tiff) echo -I Sources/CTIFF ;;
        png|raster) echo -I Sources/CTIFF -I Sources/CPNG ;;
    esac
    [ "$1" = hdf5_layout ] && { echo -I Sources/CHDF5; printf '%s\n' "${HDF5_X[@]}"; }
}
target_libs() {
    case $1 in
        manifest|config_json|config_yaml) echo -L$MOD -lCompSegCore -lYams -lCYaml ${NN_LINK[@]} -ltiff -lpng16 -lz ;;
        hdf5_layout) echo -L$MOD -lSpectralPreprocessing -lCompSegCore -lYams -lCYaml ${NN_LINK[@]} ;;
        safetensors) echo ${NN_LINK[@]} ;;
        tiff) echo -ltiff -lz ;;
        png|raster) echo -ltiff -lpng16 -lz ;;
    esac
    [ "$1" = hdf5_layout ] && echo $HDF5_L
}

# Moves TMP to OUT unless OUT holds the same already: targets built side by side share these copies,
# and rewriting one that another's compiler is reading fails its build ("modified during the build").
settle() {
    local tmp=$1 out=$2
    if cmp -s "$tmp" "$out"; then rm -f "$tmp"; else mv -f "$tmp" "$out"; fi
}

# A copy of FILE without its `import` lines of project modules compiled into the same target
# (default: CompSegCore and CompSegIO are kept/dropped as the target needs: CompSegIO is dropped).
noimport() {
    local file=$1 drop=${2:-CompSegIO}
    local out=$SRC/$(echo "$file" | tr / _)
    mkdir -p $SRC
    local tmp=$out.$BASHPID  # this shell's, set before sed (a redirection's expansion would take sed's)
    sed -E "/^import ($drop)\$/d" "$file" > "$tmp"
    settle "$tmp" "$out"
    echo "$out"
}
# A copy of FILE without the member that starts at the line matching START and ends at the next
# line `    }` (e.g. a method that needs types from files the target does not compile).
without() {
    local file=$1 start=$2 out=$SRC/without_$(echo "$1" | tr / _)
    mkdir -p $SRC
    local tmp=$out.$BASHPID
    sed "/$start/,/^    }\$/d" "$file" > "$tmp"
    settle "$tmp" "$out"
    echo "$out"
}
# The lines of FILE from the first matching START to the next END, as their own file
# (types that live in files too heavy to compile whole, e.g. the train command's settings-file struct).
extract() {
    local file=$1 name=$2 start=$3 end=$4 out=$SRC/extract_$2.swift
    local tmp=$out.$BASHPID
    mkdir -p $SRC
    { echo "import Foundation"; echo "import CompSegCore"; echo "import CompSegNN"; sed -n "/$start/,/$end/{p;/$end/q}" "$file"; } > "$tmp"
    settle "$tmp" "$out"
    echo "$out"
}

quiet_link() { grep -v "Cannot export local symbol\|^$" || true; }

build_modules() {
    mkdir -p $MOD
    # Only targets that import the engine or the core need the instrumented modules (minutes to build).
    local t needed=0
    for t in "${TARGETS_SEL[@]}"; do case $t in manifest|config_json|config_yaml|hdf5_layout|safetensors) needed=1 ;; esac; done
    [ $needed = 1 ] || return 0
    if [ ! -f $MOD/libCKernels.a ] || [ -n "$(find Sources/CKernels -newer $MOD/libCKernels.a -type f)" ]; then
        echo "== module CKernels"
        mkdir -p $B/ckernels
        for c in Sources/CKernels/*.c; do
            $CLANG -fsanitize=fuzzer-no-link,address -O1 -g -fno-math-errno -I Sources/CKernels/include -c "$c" \
                -o $B/ckernels/$(basename "$c" .c).o || return 1
        done
        rm -f $MOD/libCKernels.a
        ar rcs $MOD/libCKernels.a $B/ckernels/*.o
    fi
    if [ ! -f $MOD/libCompSegNN.a ] || [ -n "$(find Sources/CompSegNN -newer $MOD/libCompSegNN.a -name '*.swift')" ] \
       || [ $MOD/libCKernels.a -nt $MOD/libCompSegNN.a ]; then
        echo "== module CompSegNN"
        $SWIFTC "${SAN[@]}" "${SWIFT_FLAGS[@]}" -module-name CompSegNN -emit-module -emit-module-path $MOD/CompSegNN.swiftmodule \
            -emit-library -static -o $MOD/libCompSegNN.a $(find Sources/CompSegNN -name '*.swift' | sort) \
            -I Sources/CDNNL -I Sources/COpenBLAS -I Sources/CKernels/include "${BLAS_X[@]}" || return 1
    fi
    if [ -d $YAML/Yams ]; then
        if [ ! -f $MOD/libYams.a ]; then
            echo "== module CYaml + Yams (from $YAML)"
            mkdir -p $B/cyaml
            for c in $YAML/CYaml/src/*.c; do
                $CLANG -fsanitize=fuzzer-no-link,address -O1 -g -DYAML_DECLARE_EXPORT -I $YAML/CYaml/include -c "$c" \
                    -o $B/cyaml/$(basename "$c" .c).o || return 1
            done
            ar rcs $MOD/libCYaml.a $B/cyaml/*.o
            $SWIFTC "${SAN[@]}" "${SWIFT_FLAGS[@]}" -module-name Yams -emit-module -emit-module-path $MOD/Yams.swiftmodule \
                -emit-library -static -o $MOD/libYams.a $YAML/Yams/*.swift -I $YAML/CYaml/include \
                -swift-version 5 -DSWIFT_PACKAGE -suppress-warnings || return 1
        fi
        if [ ! -f $MOD/libCompSegCore.a ] || [ -n "$(find Sources/CompSegCore -newer $MOD/libCompSegCore.a -name '*.swift')" ] \
           || [ $MOD/libCompSegNN.a -nt $MOD/libCompSegCore.a ]; then
            echo "== module CompSegCore"
            $SWIFTC "${SAN[@]}" "${SWIFT_FLAGS[@]}" -module-name CompSegCore -emit-module -emit-module-path $MOD/CompSegCore.swiftmodule \
                -emit-library -static -o $MOD/libCompSegCore.a Sources/CompSegCore/*.swift -I $MOD -I $YAML/CYaml/include "${NN_INC[@]}" || return 1
        fi
        # The spectral preprocessing plugin (Plugins/Modalities/Spectral), for the HDF5 target's reader options and preview.
        if [[ " ${TARGETS_SEL[*]} " == *" hdf5_layout "* ]] && { [ ! -f $MOD/libSpectralPreprocessing.a ] \
           || [ -n "$(find Plugins/Modalities/Spectral -newer $MOD/libSpectralPreprocessing.a -name '*.swift')" ] \
           || [ $MOD/libCompSegCore.a -nt $MOD/libSpectralPreprocessing.a ]; }; then
            echo "== module SpectralPreprocessing"
            $SWIFTC "${SAN[@]}" "${SWIFT_FLAGS[@]}" -module-name SpectralPreprocessing -emit-module \
                -emit-module-path $MOD/SpectralPreprocessing.swiftmodule -emit-library -static -o $MOD/libSpectralPreprocessing.a \
                Plugins/Modalities/Spectral/*.swift -I $MOD -I $YAML/CYaml/include "${NN_INC[@]}" || return 1
        fi
    else
        echo "note: $YAML missing (SwiftPM has not resolved Yams): targets that need CompSegCore are skipped" >&2
    fi
}

needs_core() { case $1 in manifest|config_json|config_yaml|hdf5_layout) true ;; *) false ;; esac; }

build_target() {
    local t=$1
    if needs_core $t && [ ! -f $MOD/libCompSegCore.a ]; then echo "skip $t: no CompSegCore module" >&2; return 2; fi
    local srcs; srcs=$(target_sources $t)
    local exe=$B/bin/fuzz_$t
    mkdir -p $B/bin
    # Rebuild when the harness, the support file, a source or a module library is newer than the binary.
    if [ -f $exe ]; then
        local stale=0
        for f in fuzz/$t.swift fuzz/Support.swift $srcs $(find Sources/CompSegIO Sources/CompSegTraining Sources/CompSegCLI Plugins/Modalities/SpectralFiles -name '*.swift') $MOD/*.a; do
            [ "$f" -nt $exe ] && { stale=1; break; }
        done
        [ $stale = 0 ] && return 0
    fi
    echo "== target $t"
    rm -f $exe  # a failed build must not leave the old binary looking current
    $SWIFTC "${SAN[@]}" "${SWIFT_FLAGS[@]}" -module-name Fuzz_$t -o $exe fuzz/$t.swift fuzz/Support.swift $srcs \
        $(target_flags $t) $(target_libs $t) 2>&1 | quiet_link
    [ -x $exe ] && [ $exe -nt fuzz/$t.swift ]
}

build_all() {
    build_modules || { echo "module build failed" >&2; exit 2; }
    # Targets build FUZZ_JOBS at a time (default: the cores), each logging to logs/build-TARGET.log.
    local ok=() jobs=${FUZZ_JOBS:-$(nproc)}
    mkdir -p $B/logs
    for t in "${TARGETS_SEL[@]}"; do
        while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
        ( build_target $t > $B/logs/build-$t.log 2>&1; echo $? > $B/logs/build-$t.rc ) &
    done
    wait
    for t in "${TARGETS_SEL[@]}"; do
        cat $B/logs/build-$t.log
        case "$(cat $B/logs/build-$t.rc)" in
            0) ok+=($t) ;;
            2) echo "build of $t skipped" >&2 ;;
            # A target that no longer compiles would otherwise drop out of every run unnoticed.
            *) echo "build of $t failed" >&2; BUILD_FAILED+=($t) ;;
        esac
    done
    BUILT=("${ok[@]}")
}

# Runs target $1 with libFuzzer args; records the artifacts it left.
FOUND=() BUILD_FAILED=()
run_target() {
    local t=$1; shift
    local work=$B/corpus/$t art=$B/artifacts/$t/ log=$B/logs/$t.log
    mkdir -p $work $art $B/logs
    local dict=(); [ -f fuzz/dict/$t.dict ] && dict=(-dict=fuzz/dict/$t.dict)
    local before; before=$(ls $art | wc -l)
    # First the inputs that once crashed it (fuzz/crashes/TARGET), each run once: regressions.
    if [ -d fuzz/crashes/$t ] && [ -n "$(ls fuzz/crashes/$t)" ]; then
        if SWIFT_BACKTRACE=enable=no LSAN_OPTIONS=suppressions=$ROOT/fuzz/lsan.supp:print_suppressions=0 \
           $B/bin/fuzz_$t -rss_limit_mb=1024 -timeout=10 fuzz/crashes/$t/* > $B/logs/$t.replay.log 2>&1; then
            echo "== replay $t: $(ls fuzz/crashes/$t | wc -l) past findings, no crash"
        else
            echo "== replay $t: a past finding fails again (log $B/logs/$t.replay.log)"
            FOUND+=("$t replay: $(grep -m1 -E 'Running: ' $B/logs/$t.replay.log | tail -1)")
        fi
    fi
    echo "== fuzz $t $*"
    # shellcheck disable=SC2086
    SWIFT_BACKTRACE=enable=no LSAN_OPTIONS=suppressions=$ROOT/fuzz/lsan.supp:print_suppressions=0 \
    $B/bin/fuzz_$t -rss_limit_mb=1024 -timeout=10 -print_final_stats=1 ${MAX_LEN:+-max_len=$MAX_LEN} \
        -artifact_prefix=$art "${dict[@]}" ${FUZZ_FLAGS:-} "$@" $work fuzz/corpus/$t > $log 2>&1
    local rc=$?
    grep -E "^Done|stat::number_of_executed_units|stat::peak_rss|ERROR: libFuzzer|ERROR: AddressSanitizer|ERROR: LeakSanitizer|Fatal error|Test unit written|INFO: exiting|INFO: fuzzed for|CRASH: " $log | sort -u | head -20
    grep -E "^#[0-9]+: cov:" $log | tail -1  # fork mode: executions, and oom/timeout/crash counts
    local after; after=$(ls $art | wc -l)
    if [ $rc -ne 0 ] || [ "$after" -gt "$before" ]; then
        FOUND+=("$t (exit $rc): $(ls -t $art | head -5 | sed "s|^|$art|" | tr '\n' ' ')")
    fi
}

MODE=time SECONDS_PER=30 RUNS=0 REPRO=()
case "${1:-}" in
    --list) printf '%s\n' "${ALL_TARGETS[@]}"; exit 0 ;;
    --build) MODE=build; shift ;;
    --runs) MODE=runs; RUNS=$2; shift 2 ;;
    --repro) MODE=repro; shift; REPRO_T=$1; shift; REPRO=("$@") ;;
    "") ;;
    *) SECONDS_PER=$1; shift ;;
esac
if [ $MODE = repro ]; then TARGETS_SEL=($REPRO_T)
elif [ $# -gt 0 ]; then TARGETS_SEL=("$@")
else read -ra TARGETS_SEL <<< "${TARGETS:-${ALL_TARGETS[*]}}"; fi

build_all
[ $MODE = build ] && exit $(( ${#BUILD_FAILED[@]} > 0 ))
if [ $MODE = repro ]; then
    SWIFT_BACKTRACE=enable=no LSAN_OPTIONS=suppressions=$ROOT/fuzz/lsan.supp:print_suppressions=0 exec $B/bin/fuzz_$REPRO_T -rss_limit_mb=1024 -timeout=10 "${REPRO[@]}"
fi
for t in "${BUILT[@]}"; do
    if [ $MODE = runs ]; then run_target $t -runs=$RUNS
    else run_target $t -max_total_time=$SECONDS_PER; fi
done
for t in "${BUILD_FAILED[@]}"; do FOUND+=("$t: did not build (log $B/logs/build-$t.log)"); done
if [ ${#FOUND[@]} -gt 0 ]; then
    echo "FINDINGS:"; printf '  %s\n' "${FOUND[@]}"; exit 1
fi
echo "no crash, leak, OOM or timeout in: ${BUILT[*]}"
