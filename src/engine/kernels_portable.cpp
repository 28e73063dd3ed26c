// Portable build of the kernels: plain C++ that any x86-64 or ARM CPU runs.
#include "engine/kernels.h"

#define KERNEL_NAMESPACE portable
#include "engine/kernel_body.inc"
