#!/usr/bin/env bash
# An instance's, a volume's and a snapshot's life cycles with the AWS CLI's
# own waiters, against a minicloud whose data plane is off (API-only mode):
# every waiter must return, and the instance's console must say that
# nothing runs it.
#
# Needs: credentials and region in the environment. The caller passes the
# CLI as $AWS (default: aws) and the endpoint as $ENDPOINT.
set -euo pipefail
AWS=${AWS:-aws}
aws_() { $AWS --endpoint-url "$ENDPOINT" --output text "$@"; }

state() { aws_ ec2 describe-instances --instance-ids "$1" --query 'Reservations[0].Instances[0].State.Name'; }

ami=$(aws_ ec2 describe-images --owners amazon --query 'Images[0].ImageId')
inst=$(aws_ ec2 run-instances --image-id "$ami" --instance-type t3.micro --count 1 \
  --tag-specifications 'ResourceType=instance,Tags=[{Key=Name,Value=api-only}]' --query 'Instances[0].InstanceId')
echo "launched $inst: $(state "$inst")"
aws_ ec2 wait instance-running --instance-ids "$inst"
echo "instance running: $(state "$inst")"
aws_ ec2 wait instance-status-ok --instance-ids "$inst"
echo "status checks: $(aws_ ec2 describe-instance-status --instance-ids "$inst" --query 'InstanceStatuses[0].[InstanceStatus.Status,SystemStatus.Status]')"
console=$(aws_ ec2 get-console-output --instance-id "$inst" --query Output)
# CLI v1 decodes the base64 output, v2 does too unless told not to.
grep -q "minicloud API-only mode: this instance is recorded as running, but nothing runs it" <<<"$console" \
  || { echo "console lacks the API-only notice: $console" >&2; exit 1; }
echo "console: API-only notice"

az=$(aws_ ec2 describe-instances --instance-ids "$inst" --query 'Reservations[0].Instances[0].Placement.AvailabilityZone')
vol=$(aws_ ec2 create-volume --availability-zone "$az" --size 1 --query VolumeId)
aws_ ec2 wait volume-available --volume-ids "$vol"
echo "volume available: $vol"
aws_ ec2 attach-volume --volume-id "$vol" --instance-id "$inst" --device /dev/sdf >/dev/null
aws_ ec2 wait volume-in-use --volume-ids "$vol"
echo "volume in-use"
snap=$(aws_ ec2 create-snapshot --volume-id "$vol" --description api-only --query SnapshotId)
aws_ ec2 wait snapshot-completed --snapshot-ids "$snap"
echo "snapshot completed: $(aws_ ec2 describe-snapshots --snapshot-ids "$snap" --query 'Snapshots[0].[State,Progress]')"

aws_ ec2 reboot-instances --instance-ids "$inst"
echo "rebooted: $(state "$inst")"
aws_ ec2 stop-instances --instance-ids "$inst" >/dev/null
aws_ ec2 wait instance-stopped --instance-ids "$inst"
echo "instance stopped: $(state "$inst")"
aws_ ec2 detach-volume --volume-id "$vol" >/dev/null
aws_ ec2 wait volume-available --volume-ids "$vol"
echo "volume detached"
aws_ ec2 start-instances --instance-ids "$inst" >/dev/null
aws_ ec2 wait instance-running --instance-ids "$inst"
echo "instance running again: $(state "$inst")"
aws_ ec2 terminate-instances --instance-ids "$inst" >/dev/null
aws_ ec2 wait instance-terminated --instance-ids "$inst"
echo "instance terminated: $(state "$inst")"

aws_ ec2 delete-snapshot --snapshot-id "$snap"
aws_ ec2 delete-volume --volume-id "$vol"
aws_ ec2 wait volume-deleted --volume-ids "$vol"
echo "volume deleted"
echo "api-only life cycles complete"
