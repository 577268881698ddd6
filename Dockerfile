# Serving image: the Lambda Python base, onnxruntime and the handler, plus the
# exported model. No pandas, scikit-learn, TensorFlow or compilers.
#
# Base: Lambda's Python 3.12 image on Amazon Linux 2023 (glibc 2.34), pinned to
# a dated tag. Its glibc decides which wheels install: tests/test_image.py reads
# this FROM line and checks that every pin in lambda_fn/requirements.txt has a
# wheel for it, on both architectures.
#
# ARCH: x86_64 (default) or arm64. `sam build` passes the template's
# Architecture parameter both as this build argument and as --platform; with
# plain Docker: docker build --platform linux/arm64 --build-arg ARCH=arm64 .
ARG ARCH=x86_64
FROM public.ecr.aws/lambda/python:3.12.2026.06.02.15-${ARCH}

COPY --chmod=0644 lambda_fn/requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir --only-binary=:all: -r /tmp/requirements.txt \
        --target "${LAMBDA_TASK_ROOT}" \
    && rm /tmp/requirements.txt

# Lambda runs the function as a non-root user, and COPY keeps the build
# context's modes: set them, so that a 0600 file on the builder's disk cannot
# make init fail with a permission error.
COPY --chmod=0755 contract/ ${LAMBDA_TASK_ROOT}/contract/
COPY --chmod=0755 lambda_fn/ ${LAMBDA_TASK_ROOT}/lambda_fn/
COPY --chmod=0644 artifacts/model.onnx ${LAMBDA_TASK_ROOT}/lambda_fn/model.onnx
# Lambda's file system is read-only, so Python cannot cache the handler's
# bytecode there: compiled here, or every cold start compiles it again. pip
# has already compiled the packages it installed.
RUN python -m compileall -q "${LAMBDA_TASK_ROOT}/contract" "${LAMBDA_TASK_ROOT}/lambda_fn"

# numpy's OpenBLAS starts a thread pool at import, which slows every cold start
# when the CPU is busy (docs/deploy.md); serving does no linear algebra
# (onnxruntime keeps its own threads).
ENV OPENBLAS_NUM_THREADS=1

CMD ["lambda_fn.app.handler"]

# Security scan (checkov, in `make lint`):
# checkov:skip=CKV_DOCKER_2: Lambda does not run HEALTHCHECK; it checks the runtime API itself
# checkov:skip=CKV_DOCKER_3: Lambda runs the function as its own non-root user whatever USER says; the copied files are world-readable for it
