"""The image and the template keep their promises (static checks; `make lint`
runs hadolint, cfn-lint and sam validate --lint on the same files)."""

import re

import yaml

from tests.conftest import ROOT


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


def _template() -> dict:
    text = (ROOT / "infra" / "template.yaml").read_text()
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader


def _resources() -> dict:
    return _template()["Resources"]


def _statements(fn: dict) -> list[dict]:
    return [
        s
        for policy in fn["Policies"]
        if isinstance(policy, dict) and "Statement" in policy
        for s in policy["Statement"]
    ]


def test_api_and_batch_are_two_functions_of_one_image_and_handler():
    template = _template()
    functions = {
        name: r
        for name, r in template["Resources"].items()
        if r["Type"] == "AWS::Serverless::Function"
    }
    assert set(functions) == {"ApiFunction", "BatchFunction", "ChunkFunction"}
    assert template["Globals"]["Function"]["AutoPublishAlias"] == "live"
    for resource in functions.values():
        assert resource["Properties"]["PackageType"] == "Image"
    for name in ("ApiFunction", "BatchFunction"):
        preference = functions[name]["Properties"]["DeploymentPreference"]
        assert preference["Type"].startswith("Canary")
    # No canary for the large-file tasks: one run's ranges must not be split
    # between two versions by a weighted alias.
    assert "DeploymentPreference" not in functions["ChunkFunction"]["Properties"]
    # One image: the same build context, Dockerfile and tag (the image's CMD is the handler).
    docker = ("DockerContext", "Dockerfile", "DockerTag")
    api, batch, chunk = (functions[f"{n}Function"]["Metadata"] for n in ("Api", "Batch", "Chunk"))
    assert [api[k] for k in docker] == [batch[k] for k in docker] == [chunk[k] for k in docker]


def test_each_function_has_its_own_timeout_and_concurrency():
    params = _template()["Parameters"]
    api = _resources()["ApiFunction"]["Properties"]
    batch = _resources()["BatchFunction"]["Properties"]
    assert api["Timeout"] == "ApiTimeout" and params["ApiTimeout"]["MaxValue"] <= 30
    assert batch["Timeout"] == "BatchTimeout" and params["BatchTimeout"]["Default"] == 900
    assert api["ReservedConcurrentExecutions"] == "ApiReservedConcurrency"
    assert batch["ReservedConcurrentExecutions"] == "BatchReservedConcurrency"
    assert "ProvisionedConcurrencyConfig" in api
    # The queue never runs more batch containers than are reserved for them.
    queued = batch["Events"]["FileQueued"]["Properties"]
    assert queued["ScalingConfig"]["MaximumConcurrency"] == "BatchReservedConcurrency"


def test_api_routes_go_to_the_api_function_and_files_to_the_batch_function():
    api = _resources()["ApiFunction"]["Properties"]["Events"]
    batch = _resources()["BatchFunction"]["Properties"]["Events"]
    assert {e["Type"] for e in api.values()} == {"HttpApi"}
    assert {e["Properties"]["Path"] for e in api.values()} == {
        "/predict",
        "/schema",
        "/health",
        "/openapi.json",
    }
    assert [e["Type"] for e in batch.values()] == ["SQS"]
    assert _resources()["ScoringApi"]["Properties"]["Auth"]["DefaultAuthorizer"] == "AWS_IAM"


def test_files_reach_the_batch_function_through_a_queue_with_a_dead_letter_queue():
    resources = _resources()
    bucket = resources["ScoringBucket"]
    (notification,) = bucket["Properties"]["NotificationConfiguration"]["QueueConfigurations"]
    assert notification["Queue"] == "FileQueue.Arn"
    assert notification["Filter"]["S3Key"]["Rules"] == [{"Name": "prefix", "Value": "incoming/"}]
    assert "FileQueuePolicy" in bucket["DependsOn"]
    (grant,) = resources["FileQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert grant["Principal"] == {"Service": "s3.amazonaws.com"}
    assert grant["Action"] == "sqs:SendMessage"
    assert {"aws:SourceArn", "aws:SourceAccount"} <= {
        key for condition in grant["Condition"].values() for key in condition
    }
    queue = resources["FileQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == "DeadLetterQueue.Arn"
    queued = resources["BatchFunction"]["Properties"]["Events"]["FileQueued"]["Properties"]
    assert queued["Queue"] == "FileQueue.Arn"
    assert queued["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # Parked files outlive the queue's own retention, and an alarm says they are there.
    assert (
        resources["DeadLetterQueue"]["Properties"]["MessageRetentionPeriod"]
        > queue["MessageRetentionPeriod"]
    )
    dlq_alarms = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        and r["Properties"].get("Namespace") == "AWS/SQS"
        and r["Properties"]["Dimensions"][0]["Value"] == "DeadLetterQueue.QueueName"
    ]
    assert {a["MetricName"] for a in dlq_alarms} == {
        "ApproximateNumberOfMessagesVisible",
        "ApproximateAgeOfOldestMessage",
    }


def test_visibility_timeout_is_six_times_every_allowed_batch_timeout():
    template = _template()
    allowed = template["Parameters"]["BatchTimeout"]["AllowedValues"]
    mapping = template["Mappings"]["BatchTimeouts"]
    assert template["Resources"]["FileQueue"]["Properties"]["VisibilityTimeout"] == [
        "BatchTimeouts",
        "BatchTimeout",
        "VisibilityTimeout",
    ]
    assert sorted(int(k) for k in mapping) == sorted(allowed)
    for timeout in allowed:
        assert mapping[str(timeout)]["VisibilityTimeout"] >= 6 * timeout
    assert max(m["VisibilityTimeout"] for m in mapping.values()) <= 43200  # SQS's maximum


def test_batch_policy_is_least_privilege_and_lists_only_its_own_bucket():
    resources = _resources()
    statements = _statements(resources["BatchFunction"]["Properties"])
    written = [s for s in statements if "s3:PutObject" in str(s["Action"])]
    assert written and all(
        any(f"/{p}/" in str(s["Resource"]) for p in ("summaries", "scored", "leases"))
        for s in written
    )
    assert not any("incoming/" in str(s["Resource"]) for s in written)
    assert not any(s["Action"] == "*" or "s3:*" in str(s["Action"]) for s in statements)
    # Unconditional, so that a missing key reads as 404 (tests/lambda_fn/test_s3_permissions.py),
    # and on the scoring bucket alone.
    for name in ("BatchFunction", "ChunkFunction"):
        listings = [
            s
            for s in _statements(resources[name]["Properties"])
            if "s3:ListBucket" in str(s["Action"])
        ]
        (listing,) = listings
        assert listing["Action"] == "s3:ListBucket" and "Condition" not in listing
        assert listing["Resource"].endswith(
            ":s3:::${AWS::StackName}-scoring-${AWS::AccountId}-${AWS::Region}"
        )
    # The API path touches no bucket: at most the model object, when it is loaded from S3.
    (only_if_model_in_s3,) = resources["ApiFunction"]["Properties"]["Policies"]
    condition, policy, otherwise = only_if_model_in_s3
    assert condition == "ModelFromS3" and otherwise == "AWS::NoValue"
    assert [s["Action"] for s in policy["Statement"]] == ["s3:GetObject"]


def test_bucket_access_is_logged_to_a_private_log_bucket():
    resources = _resources()
    bucket = resources["ScoringBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    logging = bucket["LoggingConfiguration"]
    assert logging["DestinationBucketName"] == "AccessLogBucket"
    logs = resources["AccessLogBucket"]["Properties"]
    assert all(logs["PublicAccessBlockConfiguration"].values())
    assert (
        logs["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == "AccessLogRetentionDays"
    )
    grant = resources["AccessLogBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert grant["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert logging["LogFilePrefix"] in grant["Resource"]
    assert "AccessLogBucketPolicy" in resources["ScoringBucket"]["DependsOn"]


def test_drift_alarms_watch_the_metrics_the_handler_emits():
    template = _template()
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    watched = {}
    for name in ("PositiveRateDriftAlarm", "MeanScoreDriftAlarm"):
        alarm = template["Resources"][name]["Properties"]
        (stat,) = [m["MetricStat"] for m in alarm["Metrics"] if "MetricStat" in m]
        metric = stat["Metric"]
        assert metric["Namespace"] == env["METRICS_NAMESPACE"]
        assert metric["Dimensions"] == [
            {"Name": "service", "Value": env["POWERTOOLS_SERVICE_NAME"]}
        ]
        assert alarm["ComparisonOperator"] == "LessThanLowerOrGreaterThanUpperThreshold"
        watched[name] = metric["MetricName"]
    assert set(watched.values()) == {"PositiveRate", "MeanProbability"}
    handler = (ROOT / "lambda_fn" / "app.py").read_text()
    assert all(f'"{m}"' in handler for m in watched.values())


STATE_MACHINE_ARN = "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:${AWS::StackName}-scoring"


def _definition() -> dict:
    import json

    machine = _resources()["ScoringStateMachine"]["Properties"]
    text = (ROOT / "infra" / machine["DefinitionUri"]).read_text()
    names = set(re.findall(r"\$\{(\w+)\}", text))
    assert names == set(machine["DefinitionSubstitutions"])
    for name in names:  # numbers substituted unquoted, as CloudFormation will
        text = text.replace("${" + name + "}", "1" if "Arn" not in name else "arn")
    return json.loads(text)


def test_large_files_run_through_a_distributed_map_that_tolerates_no_failure():
    states = _definition()["States"]
    assert _definition()["StartAt"] == "Plan"
    assert states["Plan"]["Next"] == "ScoreRanges" and states["ScoreRanges"]["Next"] == "Merge"
    scoring = states["ScoreRanges"]
    assert scoring["Type"] == "Map"
    assert scoring["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert scoring["ItemReader"]["Resource"] == "arn:aws:states:::s3:getObject"
    assert scoring["ToleratedFailurePercentage"] == 0
    assert scoring["MaxConcurrency"] == 1  # substituted from ChunkMaxConcurrency
    child = scoring["ItemProcessor"]["States"]["ScoreRange"]
    retried = {e for r in child["Retry"] for e in r["ErrorEquals"]}
    assert {
        "Lambda.TooManyRequestsException",
        "Lambda.ServiceException",
        "States.Timeout",
    } <= retried
    assert all(r["BackoffRate"] > 1 for r in child["Retry"])
    # Every step's failure is recorded by the fail task, and the run ends failed.
    for name in ("Plan", "ScoreRanges", "Merge"):
        assert states[name]["Catch"][0]["Next"] == "RecordFailure"
    assert states["RecordFailure"]["Next"] == "Failed" and states["Failed"]["Type"] == "Fail"


def test_the_state_machine_may_invoke_only_its_function_and_start_only_its_own_children():
    resources = _resources()
    machine = resources["ScoringStateMachine"]["Properties"]
    assert machine["Name"] == "${AWS::StackName}-scoring"
    assert machine["DefinitionSubstitutions"]["ChunkFunctionArn"] == "ChunkFunctionAliaslive"
    invoke = [p["LambdaInvokePolicy"] for p in machine["Policies"] if "LambdaInvokePolicy" in p]
    assert invoke == [{"FunctionName": "ChunkFunction"}]
    statements = _statements(machine)
    by_sid = {s["Sid"]: s for s in statements}
    assert by_sid["RunMapChildren"]["Action"] == "states:StartExecution"
    assert by_sid["RunMapChildren"]["Resource"] == STATE_MACHINE_ARN
    assert by_sid["WatchMapChildren"]["Resource"].endswith(":execution:${AWS::StackName}-scoring/*")
    assert by_sid["ReadManifests"]["Resource"].endswith("/staging/*/manifest.json")
    wildcard = [s for s in statements if s["Resource"] == "*"]
    assert all(a.startswith("logs:") for s in wildcard for a in s["Action"])
    # The batch function starts executions of exactly this state machine.
    batch = resources["BatchFunction"]["Properties"]
    starts = [s for s in _statements(batch) if "states:" in str(s["Action"])]
    assert starts == [
        {
            "Sid": "StartLargeFileRuns",
            "Effect": "Allow",
            "Action": "states:StartExecution",
            "Resource": STATE_MACHINE_ARN,
        }
    ]
    assert batch["Environment"]["Variables"]["STATE_MACHINE_ARN"] == STATE_MACHINE_ARN


def test_staging_expires_and_failed_runs_raise_an_alarm():
    bucket = _resources()["ScoringBucket"]["Properties"]
    rules = {r["Id"]: r for r in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["expire-staging"]["Prefix"] == "staging/"
    alarm = _resources()["LargeFileRunsFailedAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/States", "ExecutionsFailed")
    assert alarm["Dimensions"][0]["Value"] == "ScoringStateMachine"
    env = _template()["Globals"]["Function"]["Environment"]["Variables"]
    assert env["STAGING_PREFIX"] == "staging/"
