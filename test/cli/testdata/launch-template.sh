#!/usr/bin/env bash
# A launch template's cycle with the AWS CLI: create, add a version from
# the first, describe, launch an instance from it, move the default
# version, delete versions and the template. Runs against any minicloud
# (the instance is terminated at the end).
#
# Needs: credentials and region in the environment. The caller passes the
# CLI as $AWS (default: aws) and the endpoint as $ENDPOINT.
set -euo pipefail
AWS=${AWS:-aws}
aws_() { $AWS --endpoint-url "$ENDPOINT" --output text "$@"; }

ami=$(aws_ ec2 describe-images --owners amazon --filters 'Name=name,Values=al2023-ami-*-x86_64' --query 'Images[0].ImageId')
lt=$(aws_ ec2 create-launch-template --launch-template-name lt-cycle --version-description first \
  --launch-template-data "{\"ImageId\":\"$ami\",\"InstanceType\":\"t3.micro\",\"TagSpecifications\":[{\"ResourceType\":\"instance\",\"Tags\":[{\"Key\":\"Name\",\"Value\":\"from-lt\"}]}]}" \
  --tag-specifications 'ResourceType=launch-template,Tags=[{Key=team,Value=web}]' \
  --query 'LaunchTemplate.LaunchTemplateId')
echo "created: $lt"
if aws_ ec2 create-launch-template --launch-template-name lt-cycle --launch-template-data '{"InstanceType":"t3.micro"}' 2>/tmp/lt-dup.$$; then
  echo "a duplicate name was accepted" >&2; exit 1
fi
grep -q InvalidLaunchTemplateName.AlreadyExistsException /tmp/lt-dup.$$ && echo "duplicate refused"; rm -f /tmp/lt-dup.$$
v=$(aws_ ec2 create-launch-template-version --launch-template-id "$lt" --source-version 1 --version-description second \
  --launch-template-data '{"InstanceType":"t3.small"}' --query 'LaunchTemplateVersion.[VersionNumber,LaunchTemplateData.InstanceType,LaunchTemplateData.ImageId]')
echo "version: $v"
echo "template: $(aws_ ec2 describe-launch-templates --launch-template-names lt-cycle --query 'LaunchTemplates[0].[DefaultVersionNumber,LatestVersionNumber]')"
echo "latest: $(aws_ ec2 describe-launch-template-versions --launch-template-id "$lt" --versions '$Latest' --query 'LaunchTemplateVersions[0].VersionNumber')"

inst=$(aws_ ec2 run-instances --launch-template "LaunchTemplateId=$lt,Version=2" --count 1 --query 'Instances[0].InstanceId')
echo "launched: $(aws_ ec2 describe-instances --instance-ids "$inst" \
  --query 'Reservations[0].Instances[0].[InstanceType,Tags[?Key==`Name`].Value|[0],Tags[?Key==`aws:ec2launchtemplate:version`].Value|[0]]')"

echo "default now: $(aws_ ec2 modify-launch-template --launch-template-id "$lt" --default-version 2 --query 'LaunchTemplate.DefaultVersionNumber')"
echo "deleted versions: $(aws_ ec2 delete-launch-template-versions --launch-template-id "$lt" --versions 1 --query 'SuccessfullyDeletedLaunchTemplateVersions[0].VersionNumber')"
aws_ ec2 terminate-instances --instance-ids "$inst" >/dev/null
aws_ ec2 delete-launch-template --launch-template-id "$lt" >/dev/null
echo "templates left: $(aws_ ec2 describe-launch-templates --query 'length(LaunchTemplates)')"
echo "launch template cycle complete"
