# Serving image: the Lambda Python base, onnxruntime and the handler, plus the
# exported model. No pandas, scikit-learn, TensorFlow or compilers.
# x86_64 by default (see docs/deploy.md for arm64).
FROM public.ecr.aws/lambda/python:3.11.2026.02.28.00

COPY lambda_fn/requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir --only-binary=:all: -r /tmp/requirements.txt \
        --target "${LAMBDA_TASK_ROOT}" \
    && rm /tmp/requirements.txt

COPY lambda_fn/ ${LAMBDA_TASK_ROOT}/lambda_fn/
COPY artifacts/model.onnx ${LAMBDA_TASK_ROOT}/lambda_fn/model.onnx

CMD ["lambda_fn.app.handler"]

# Security scan (checkov, in `make lint`):
# checkov:skip=CKV_DOCKER_2: Lambda does not run HEALTHCHECK; it checks the runtime API itself
# checkov:skip=CKV_DOCKER_3: Lambda runs the function as its own non-root user whatever USER says; the copied files are world-readable for it
