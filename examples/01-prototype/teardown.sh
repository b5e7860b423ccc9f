#!/usr/bin/env bash
# Deletes everything provision.sh (or provision.py) built, in dependency
# order, leaving the account as it was: the hosted zone and its records, the
# Elastic IP, the instance and its AMI, the RDS instance and its subnet group, the
# security groups, subnets, route table, network ACL, internet gateway and
# VPC. Resources are found by their tag project=prototype (the hosted zone
# by its name), so it works after either provisioning script, and again
# after a partial run: what is already gone is skipped.
#
# Environment: ENDPOINT (default http://localhost:4566), AWS (default aws),
# DOMAIN (default example.test), credentials and region.
set -euo pipefail
AWS=${AWS:-aws}
ENDPOINT=${ENDPOINT:-http://localhost:4566}
DOMAIN=${DOMAIN:-example.test}
aws_() { $AWS --endpoint-url "$ENDPOINT" --output text "$@"; }
say() { echo "[$(date +%T)] $*"; }
tagged=(--filters Name=tag:project,Values=prototype)

# wait_until DESCRIPTION CMD...: runs CMD every second until it prints
# nothing or 0 (at most 120 times).
wait_until() {
  local what=$1 got=""; shift
  for _ in $(seq 1 120); do
    got=$("$@")
    [ -z "$got" ] || [ "$got" = 0 ] || [ "$got" = None ] && return 0
    sleep 1
  done
  echo "$what: still $got after 120 s" >&2
  exit 1
}

for zone in $(aws_ route53 list-hosted-zones --query "HostedZones[?Name=='$DOMAIN.'].Id"); do
  say "hosted zone $zone"
  changes=$(aws_ --output json route53 list-resource-record-sets --hosted-zone-id "$zone" \
    --query "ResourceRecordSets[?Type!='SOA' && Type!='NS'].{Action:'DELETE',ResourceRecordSet:@}")
  if [ "$changes" != "[]" ]; then
    aws_ route53 change-resource-record-sets --hosted-zone-id "$zone" --change-batch "{\"Changes\":$changes}" >/dev/null
  fi
  aws_ route53 delete-hosted-zone --id "$zone" >/dev/null
done

aws_ ec2 describe-addresses "${tagged[@]}" --query 'Addresses[].[AllocationId,AssociationId]' | while read -r alloc assoc; do
  say "Elastic IP $alloc"
  [ "$assoc" = None ] || aws_ ec2 disassociate-address --association-id "$assoc"
  aws_ ec2 release-address --allocation-id "$alloc"
done

insts=$(aws_ ec2 describe-instances "${tagged[@]}" Name=instance-state-name,Values=pending,running,stopping,stopped --query 'Reservations[].Instances[].InstanceId')
if [ -n "$insts" ]; then
  say "instances $insts"
  aws_ ec2 terminate-instances --instance-ids $insts >/dev/null
fi
for ami in $(aws_ ec2 describe-images --owners self "${tagged[@]}" --query 'Images[].ImageId'); do
  say "AMI $ami"
  aws_ ec2 deregister-image --image-id "$ami"
done

if aws_ rds describe-db-instances --db-instance-identifier prototype-db --query 'DBInstances[0].DBInstanceStatus' >/dev/null 2>&1; then
  say "RDS instance prototype-db"
  aws_ rds delete-db-instance --db-instance-identifier prototype-db --skip-final-snapshot >/dev/null
  wait_until "prototype-db" sh -c "$AWS --endpoint-url $ENDPOINT --output text rds describe-db-instances --db-instance-identifier prototype-db --query 'DBInstances[0].DBInstanceStatus' 2>/dev/null || true"
fi
if aws_ rds describe-db-subnet-groups --db-subnet-group-name prototype-db >/dev/null 2>&1; then
  say "DB subnet group prototype-db"
  aws_ rds delete-db-subnet-group --db-subnet-group-name prototype-db
fi

for vpc in $(aws_ ec2 describe-vpcs "${tagged[@]}" --query 'Vpcs[].VpcId'); do
  say "VPC $vpc"
  in_vpc=(--filters "Name=vpc-id,Values=$vpc")
  # Subnets, and with them the security groups, are free only once the
  # instances' and the database's network interfaces are gone.
  if [ -n "${insts:-}" ]; then
    wait_until "instances" aws_ ec2 describe-instances --instance-ids $insts \
      --query "length(Reservations[].Instances[?State.Name!='terminated'][])"
  fi
  wait_until "network interfaces of $vpc" aws_ ec2 describe-network-interfaces "${in_vpc[@]}" --query 'length(NetworkInterfaces)'
  # db refers to web: it goes first.
  for name in db web; do
    for sg in $(aws_ ec2 describe-security-groups "${in_vpc[@]}" "Name=group-name,Values=$name" --query 'SecurityGroups[].GroupId'); do
      aws_ ec2 delete-security-group --group-id "$sg"
    done
  done
  for sn in $(aws_ ec2 describe-subnets "${in_vpc[@]}" --query 'Subnets[].SubnetId'); do
    aws_ ec2 delete-subnet --subnet-id "$sn"
  done
  for rtb in $(aws_ ec2 describe-route-tables "${in_vpc[@]}" --query 'RouteTables[?!(Associations[?Main])].RouteTableId'); do
    aws_ ec2 delete-route-table --route-table-id "$rtb"
  done
  for acl in $(aws_ ec2 describe-network-acls "${in_vpc[@]}" Name=default,Values=false --query 'NetworkAcls[].NetworkAclId'); do
    aws_ ec2 delete-network-acl --network-acl-id "$acl"
  done
  for igw in $(aws_ ec2 describe-internet-gateways --filters "Name=attachment.vpc-id,Values=$vpc" --query 'InternetGateways[].InternetGatewayId'); do
    aws_ ec2 detach-internet-gateway --internet-gateway-id "$igw" --vpc-id "$vpc"
    aws_ ec2 delete-internet-gateway --internet-gateway-id "$igw"
  done
  aws_ ec2 delete-vpc --vpc-id "$vpc"
done
say "torn down"
