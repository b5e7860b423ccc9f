#!/usr/bin/env bash
# Sharing a snapshot and an image between two accounts with the AWS CLI
# (accounts are chosen by access key: a 12-digit key is that account):
# the peer can use neither before it is shared, both once shared, and
# neither again after the owner resets the permission. Also: encryption by
# default, ModifyVolume to completion, CopySnapshot and CopyImage across
# regions.
#
# Needs: a region in the environment. The caller passes the CLI as $AWS
# (default: aws) and the endpoint as $ENDPOINT.
set -euo pipefail
AWS=${AWS:-aws}
OWNER=111111111111
PEER=222222222222
as() { local key=$1; shift; AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=test $AWS --endpoint-url "$ENDPOINT" --output text "$@"; }
owner() { as "$OWNER" "$@"; }
peer() { as "$PEER" "$@"; }
# fails runs a command that must fail with the error code $1.
fails() {
  local code=$1; shift
  local err
  if err=$("$@" 2>&1 >/dev/null); then echo "expected $code, but it succeeded: $*" >&2; exit 1; fi
  grep -q "($code)" <<<"$err" || { echo "expected $code, got: $err" >&2; exit 1; }
}
az=$(owner ec2 describe-availability-zones --query 'AvailabilityZones[0].ZoneName')
region=${az%?}

# A volume, modified to gp3 and grown, then snapshotted.
vol=$(owner ec2 create-volume --availability-zone "$az" --size 2 --query VolumeId)
owner ec2 wait volume-available --volume-ids "$vol"
fails InvalidParameterCombination owner ec2 modify-volume --volume-id "$vol" --volume-type gp2 --throughput 200
owner ec2 modify-volume --volume-id "$vol" --volume-type gp3 --size 4 --query VolumeModification.ModificationState >/dev/null
fails IncorrectModificationState owner ec2 modify-volume --volume-id "$vol" --size 8
for _ in $(seq 50); do
  st=$(owner ec2 describe-volumes-modifications --volume-ids "$vol" --query 'VolumesModifications[0].ModificationState')
  [ "$st" = completed ] && break
  sleep 0.2
done
echo "modification: $st $(owner ec2 describe-volumes --volume-ids "$vol" --query 'Volumes[0].[VolumeType,Size]')"
snap=$(owner ec2 create-snapshot --volume-id "$vol" --description shared --query SnapshotId)
owner ec2 wait snapshot-completed --snapshot-ids "$snap"

# The snapshot: not the peer's until shared.
fails InvalidSnapshot.NotFound peer ec2 create-volume --availability-zone "$az" --snapshot-id "$snap"
owner ec2 modify-snapshot-attribute --snapshot-id "$snap" --attribute createVolumePermission --operation-type add --user-ids "$PEER"
echo "snapshot permissions: $(owner ec2 describe-snapshot-attribute --snapshot-id "$snap" --attribute createVolumePermission --query 'CreateVolumePermissions[].UserId')"
pvol=$(peer ec2 create-volume --availability-zone "$az" --snapshot-id "$snap" --query VolumeId)
echo "peer restorable: $(peer ec2 describe-snapshots --restorable-by-user-ids self --snapshot-ids "$snap" --query 'Snapshots[0].OwnerId')"
owner ec2 reset-snapshot-attribute --snapshot-id "$snap" --attribute createVolumePermission
fails InvalidSnapshot.NotFound peer ec2 create-volume --availability-zone "$az" --snapshot-id "$snap"
echo "snapshot shared and unshared (peer volume $pvol)"

# Copies across regions.
other=us-west-2; [ "$region" = us-west-2 ] && other=us-east-1
csnap=$(owner ec2 copy-snapshot --region "$other" --source-region "$region" --source-snapshot-id "$snap" --query SnapshotId)
owner ec2 wait snapshot-completed --region "$other" --snapshot-ids "$csnap"
echo "snapshot copied to $other: $(owner ec2 describe-snapshots --region "$other" --snapshot-ids "$csnap" --query 'Snapshots[0].Description')"

ami=$(owner ec2 describe-images --owners amazon --filters 'Name=name,Values=al2023-ami-2023*-x86_64' --query 'Images[0].ImageId')
img=$(owner ec2 copy-image --source-region "$region" --source-image-id "$ami" --name ebs-sharing-copy --query ImageId)
owner ec2 wait image-available --image-ids "$img"
echo "image copied: $img"

# The image: not launchable by the peer until shared.
fails InvalidAMIID.NotFound peer ec2 run-instances --image-id "$img" --instance-type t3.micro --count 1
owner ec2 modify-image-attribute --image-id "$img" --launch-permission "Add=[{UserId=$PEER}]"
echo "launch permissions: $(owner ec2 describe-image-attribute --image-id "$img" --attribute launchPermission --query 'LaunchPermissions[].UserId')"
echo "peer executable: $(peer ec2 describe-images --executable-users self --query 'Images[].ImageId')"
inst=$(peer ec2 run-instances --image-id "$img" --instance-type t3.micro --count 1 --query 'Instances[0].InstanceId')
peer ec2 terminate-instances --instance-ids "$inst" >/dev/null
owner ec2 reset-image-attribute --image-id "$img" --attribute launchPermission
fails InvalidAMIID.NotFound peer ec2 run-instances --image-id "$img" --instance-type t3.micro --count 1
echo "image shared and unshared (peer instance $inst)"

# Encryption by default, the owner's only.
owner ec2 enable-ebs-encryption-by-default >/dev/null
evol=$(owner ec2 create-volume --availability-zone "$az" --size 1 --query '[VolumeId,Encrypted,KmsKeyId]')
echo "encrypted by default: $evol"
echo "peer by default: $(peer ec2 get-ebs-encryption-by-default --query EbsEncryptionByDefault)"
owner ec2 disable-ebs-encryption-by-default >/dev/null
echo "ebs sharing cycle complete"
