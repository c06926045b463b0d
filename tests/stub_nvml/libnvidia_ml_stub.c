/*
 * A stand-in for libnvidia-ml.so.1, driven by a machine fixture file.
 *
 * The file named by ADVISOR_NVML_STUB_MACHINE holds `key=value` lines (`#` starts a comment):
 *   init_error=9                   nvmlInit fails with this NVML return code
 *   driver_version=550.54.15       cuda_driver_version=12040      device_count=2
 *   gpuN.name / .uuid / .cc=8.0 / .memory_total / .memory_free / .memory_used (bytes)
 *   gpuN.processes=PID:BYTES,...   running compute processes
 *   gpuN.mig=0|1  (absent: MIG not supported)  gpuN.mig_max=7
 *   gpuN.migM.name / .uuid / .memory_total / .memory_free / .memory_used
 *   error.NAME=CODE  or  gpuN.error.NAME=CODE   make one call return an NVML error, NAME being one of
 *     count driver_version cuda_driver_version handle name uuid cc memory mig processes
 * A handle encodes the GPU and the MIG slot; nothing else is kept between calls.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ENTRIES 1024
#define KEY_LEN 64
#define VAL_LEN 256

typedef struct { unsigned long long total, free, used; } nvmlMemory_t;
typedef struct { unsigned int pid; unsigned long long usedGpuMemory; unsigned int gpuInstanceId;
                 unsigned int computeInstanceId; } nvmlProcessInfo_t;
typedef void *nvmlDevice_t;

enum { OK = 0, UNINITIALIZED = 1, INVALID_ARGUMENT = 2, NOT_SUPPORTED = 3, NOT_FOUND = 6,
       INSUFFICIENT_SIZE = 7, DRIVER_NOT_LOADED = 9 };

static char keys[MAX_ENTRIES][KEY_LEN];
static char vals[MAX_ENTRIES][VAL_LEN];
static int n_entries = 0;
static int initialised = 0;

static void load(void) {
    n_entries = 0;
    const char *path = getenv("ADVISOR_NVML_STUB_MACHINE");
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f) return;
    char line[KEY_LEN + VAL_LEN + 4];
    while (fgets(line, sizeof line, f) && n_entries < MAX_ENTRIES) {
        line[strcspn(line, "\r\n")] = 0;
        char *eq = strchr(line, '=');
        if (line[0] == '#' || !eq) continue;
        *eq = 0;
        snprintf(keys[n_entries], KEY_LEN, "%.63s", line);
        snprintf(vals[n_entries], VAL_LEN, "%.255s", eq + 1);
        n_entries++;
    }
    fclose(f);
}

static const char *get(const char *key) {
    for (int i = 0; i < n_entries; i++)
        if (strcmp(keys[i], key) == 0) return vals[i];
    return NULL;
}

static const char *getf(const char *fmt, int a, int b) {
    char key[KEY_LEN];
    snprintf(key, sizeof key, fmt, a, b);
    return get(key);
}

static unsigned long long num(const char *s) { return s ? strtoull(s, NULL, 10) : 0; }

/* Handles: 0x1000 + gpu * 0x100 + (MIG slot + 1, or 0 for the GPU itself). */
static int gpu_of(nvmlDevice_t d) { return (int)(((uintptr_t)d - 0x1000) / 0x100); }
static int mig_of(nvmlDevice_t d) { return (int)(((uintptr_t)d - 0x1000) % 0x100) - 1; }
static nvmlDevice_t handle(int gpu, int mig) { return (nvmlDevice_t)(uintptr_t)(0x1000 + gpu * 0x100 + mig + 1); }

static int count(void) { return (int)num(get("device_count")); }

static int valid(nvmlDevice_t d) {
    uintptr_t v = (uintptr_t)d;
    return v >= 0x1000 && gpu_of(d) < count();
}

/* The error a call is told to return, globally or for one GPU. */
static int fail(const char *name, int gpu) {
    const char *v;
    char key[KEY_LEN];
    if (gpu >= 0) {
        snprintf(key, sizeof key, "gpu%d.error.%s", gpu, name);
        if ((v = get(key))) return atoi(v);
    }
    snprintf(key, sizeof key, "error.%s", name);
    return (v = get(key)) ? atoi(v) : OK;
}

#define GUARD(name, dev)                                     \
    if (!initialised) return UNINITIALIZED;                  \
    if (!valid(dev)) return INVALID_ARGUMENT;                \
    { int e_ = fail(name, gpu_of(dev)); if (e_) return e_; }

static int copy_str(const char *s, char *out, unsigned int len) {
    if (!s) return NOT_SUPPORTED;
    if (strlen(s) + 1 > len) return INSUFFICIENT_SIZE;
    strcpy(out, s);
    return OK;
}

int nvmlInitWithFlags(unsigned int flags) {
    (void)flags;
    load();
    const char *e = get("init_error");
    if (!getenv("ADVISOR_NVML_STUB_MACHINE")) return DRIVER_NOT_LOADED;
    if (e) return atoi(e);
    initialised = 1;
    return OK;
}
int nvmlInit_v2(void) { return nvmlInitWithFlags(0); }
int nvmlInit(void) { return nvmlInitWithFlags(0); }
int nvmlShutdown(void) { if (!initialised) return UNINITIALIZED; initialised = 0; return OK; }

const char *nvmlErrorString(int result) {
    switch (result) {
        case OK: return "Success";
        case DRIVER_NOT_LOADED: return "Driver Not Loaded";
        default: return "Stub Error";
    }
}

int nvmlSystemGetDriverVersion(char *out, unsigned int len) {
    if (!initialised) return UNINITIALIZED;
    int e = fail("driver_version", -1);
    return e ? e : copy_str(get("driver_version"), out, len);
}

int nvmlSystemGetCudaDriverVersion(int *v) {
    if (!initialised) return UNINITIALIZED;
    int e = fail("cuda_driver_version", -1);
    if (e) return e;
    if (!get("cuda_driver_version")) return NOT_SUPPORTED;
    *v = (int)num(get("cuda_driver_version"));
    return OK;
}
int nvmlSystemGetCudaDriverVersion_v2(int *v) { return nvmlSystemGetCudaDriverVersion(v); }

int nvmlDeviceGetCount_v2(unsigned int *n) {
    if (!initialised) return UNINITIALIZED;
    int e = fail("count", -1);
    if (e) return e;
    *n = (unsigned int)count();
    return OK;
}
int nvmlDeviceGetCount(unsigned int *n) { return nvmlDeviceGetCount_v2(n); }

int nvmlDeviceGetHandleByIndex_v2(unsigned int i, nvmlDevice_t *d) {
    if (!initialised) return UNINITIALIZED;
    if ((int)i >= count()) return INVALID_ARGUMENT;
    int e = fail("handle", (int)i);
    if (e) return e;
    *d = handle((int)i, -1);
    return OK;
}
int nvmlDeviceGetHandleByIndex(unsigned int i, nvmlDevice_t *d) { return nvmlDeviceGetHandleByIndex_v2(i, d); }

int nvmlDeviceGetName(nvmlDevice_t d, char *out, unsigned int len) {
    GUARD("name", d);
    int m = mig_of(d);
    return copy_str(m < 0 ? getf("gpu%d.name", gpu_of(d), 0) : getf("gpu%d.mig%d.name", gpu_of(d), m), out, len);
}

int nvmlDeviceGetUUID(nvmlDevice_t d, char *out, unsigned int len) {
    GUARD("uuid", d);
    int m = mig_of(d);
    return copy_str(m < 0 ? getf("gpu%d.uuid", gpu_of(d), 0) : getf("gpu%d.mig%d.uuid", gpu_of(d), m), out, len);
}

int nvmlDeviceGetCudaComputeCapability(nvmlDevice_t d, int *major, int *minor) {
    GUARD("cc", d);
    const char *cc = getf("gpu%d.cc", gpu_of(d), 0);
    if (!cc || sscanf(cc, "%d.%d", major, minor) != 2) return NOT_SUPPORTED;
    return OK;
}

int nvmlDeviceGetMemoryInfo(nvmlDevice_t d, nvmlMemory_t *mem) {
    GUARD("memory", d);
    int g = gpu_of(d), m = mig_of(d);
    if (m < 0) {
        mem->total = num(getf("gpu%d.memory_total", g, 0));
        mem->free = num(getf("gpu%d.memory_free", g, 0));
        mem->used = num(getf("gpu%d.memory_used", g, 0));
    } else {
        mem->total = num(getf("gpu%d.mig%d.memory_total", g, m));
        mem->free = num(getf("gpu%d.mig%d.memory_free", g, m));
        mem->used = num(getf("gpu%d.mig%d.memory_used", g, m));
    }
    return OK;
}

int nvmlDeviceGetMigMode(nvmlDevice_t d, unsigned int *current, unsigned int *pending) {
    GUARD("mig", d);
    const char *v = getf("gpu%d.mig", gpu_of(d), 0);
    if (!v) return NOT_SUPPORTED;
    *current = *pending = (unsigned int)atoi(v);
    return OK;
}

int nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t d, unsigned int *n) {
    GUARD("mig", d);
    const char *v = getf("gpu%d.mig_max", gpu_of(d), 0);
    if (!v) return NOT_SUPPORTED;
    *n = (unsigned int)atoi(v);
    return OK;
}

int nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t d, unsigned int i, nvmlDevice_t *out) {
    GUARD("mig", d);
    if (!getf("gpu%d.mig%d.uuid", gpu_of(d), (int)i)) return NOT_FOUND;
    *out = handle(gpu_of(d), (int)i);
    return OK;
}

int nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t d, unsigned int *n, nvmlProcessInfo_t *procs) {
    GUARD("processes", d);
    const char *v = getf("gpu%d.processes", gpu_of(d), 0);
    unsigned int have = 0;
    char buf[VAL_LEN];
    snprintf(buf, sizeof buf, "%s", v ? v : "");
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        if (procs && have < *n) {
            procs[have].pid = (unsigned int)strtoul(tok, NULL, 10);
            char *colon = strchr(tok, ':');
            procs[have].usedGpuMemory = colon ? strtoull(colon + 1, NULL, 10) : 0;
            procs[have].gpuInstanceId = procs[have].computeInstanceId = 0xFFFFFFFFu;
        }
        have++;
    }
    if (have == 0) { *n = 0; return OK; }
    if (!procs || have > *n) { *n = have; return INSUFFICIENT_SIZE; }
    *n = have;
    return OK;
}
int nvmlDeviceGetComputeRunningProcesses_v2(nvmlDevice_t d, unsigned int *n, nvmlProcessInfo_t *p) {
    return nvmlDeviceGetComputeRunningProcesses_v3(d, n, p);
}
