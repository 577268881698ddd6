"""The image and the template keep their promises (static checks; `make lint`
runs hadolint, cfn-lint and sam validate --lint on the same files)."""

import re

import yaml

from tests.conftest import ROOT


def test_image_installs_only_the_serving_requirements_on_a_pinned_base():
    text = (ROOT / "Dockerfile").read_text()
    base = re.search(r"^FROM (\S+)", text, re.MULTILINE).group(1)
    assert re.fullmatch(r"public\.ecr\.aws/lambda/python:3\.11\.\d{4}\.\d\d\.\d\d\.\d\d", base)
    installs = re.findall(r"pip install[^\n]*(?:\\\n[^\n]*)*", text)
    assert len(installs) == 1 and "-r /tmp/requirements.txt" in installs[0]
    assert "COPY lambda_fn/requirements.txt /tmp/requirements.txt" in text
    assert 'CMD ["lambda_fn.app.handler"]' in text


def test_build_context_leaves_out_data_venvs_and_training_artifacts():
    lines = (ROOT / ".dockerignore").read_text().split()
    assert lines[lines.index("*")] == "*" and "!artifacts/model.onnx" in lines
    assert not any(line.startswith("!data") or line.startswith("!.venv") for line in lines)


class _Loader(yaml.SafeLoader):
    pass


def _tag(loader, suffix, node):
    """CloudFormation tags (!Sub, !Ref, ...) read as their plain content."""
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


_Loader.add_multi_constructor("!", _tag)


def test_template_wires_api_bucket_queue_and_rollout():
    template = yaml.load((ROOT / "infra" / "template.yaml").read_text(), Loader=_Loader)
    resources = template["Resources"]
    fn = resources["ScoringFunction"]["Properties"]
    assert fn["PackageType"] == "Image" and fn["AutoPublishAlias"] == "live"
    assert fn["DeploymentPreference"]["Type"].startswith("Canary")
    events = fn["Events"]
    assert {e["Properties"].get("Path") for e in events.values() if e["Type"] == "HttpApi"} == {
        "/predict",
        "/schema",
        "/health",
        "/openapi.json",
    }
    rules = [
        r
        for e in events.values()
        if e["Type"] == "S3"
        for r in e["Properties"]["Filter"]["S3Key"]["Rules"]
    ]
    assert {"Name": "prefix", "Value": "incoming/"} in rules
    assert resources["ScoringApi"]["Properties"]["Auth"]["DefaultAuthorizer"] == "AWS_IAM"
    bucket = resources["ScoringBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    statements = fn["Policies"][0]["Statement"]
    written = [s for s in statements if "s3:PutObject" in str(s["Action"])]
    assert len(written) == 2
    assert all(
        "/summaries/" in str(s["Resource"]) or "/scored/" in str(s["Resource"]) for s in written
    )
    assert not any("incoming/" in str(s["Resource"]) for s in written)
