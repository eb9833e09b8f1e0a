# Runner image of the Argo pipelines (docs/pipelines.md): the locked Python
# dependencies, Node (the jsii runtime `cdktf synth` needs) and Terraform.
# The project's code is not baked in: each step checks out the commit it runs.
# Not built in this repository's sandbox (no Docker engine); hadolint checks it.
# Pin the bases by digest when building: `docker buildx imagetools inspect <image>`.
ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm
ARG NODE_IMAGE=node:22.12.0-bookworm-slim

FROM ${NODE_IMAGE} AS node

FROM ${PYTHON_IMAGE} AS build
ARG PIPENV_VERSION=2026.10.3
ARG TERRAFORM_VERSION=1.11.4
ARG TERRAFORM_SHA256=1ce994251c00281d6845f0f268637ba50c0005657eb3cf096b92f753b42ef4dc
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
WORKDIR /build
COPY Pipfile Pipfile.lock ./
# Runtime packages only, every wheel checked against the lock's hashes.
RUN python -m venv /opt/pipenv \
    && /opt/pipenv/bin/pip install --no-cache-dir "pipenv==${PIPENV_VERSION}" \
    && /opt/pipenv/bin/pipenv requirements --hash > requirements.txt \
    && python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --require-hashes --no-deps -r requirements.txt
# Terraform from the official release zip, refused unless its SHA-256 matches.
RUN python -c "import urllib.request as u; u.urlretrieve('https://releases.hashicorp.com/terraform/${TERRAFORM_VERSION}/terraform_${TERRAFORM_VERSION}_linux_amd64.zip', 'terraform.zip')" \
    && echo "${TERRAFORM_SHA256}  terraform.zip" | sha256sum --check --strict \
    && python -m zipfile -e terraform.zip terraform-dist \
    && chmod 0755 terraform-dist/terraform

FROM ${PYTHON_IMAGE}
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=build /opt/venv /opt/venv
COPY --from=build /build/terraform-dist/terraform /usr/local/bin/terraform
RUN groupadd --gid 10001 runner \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin runner
ENV PATH=/opt/venv/bin:${PATH} \
    HOME=/tmp \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CHECKPOINT_DISABLE=1
USER 10001:10001
WORKDIR /workspace/repo
