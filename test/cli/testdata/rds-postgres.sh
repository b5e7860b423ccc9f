#!/usr/bin/env bash
# Drives the whole life of an RDS for PostgreSQL instance with the AWS CLI:
# a DB subnet group in a VPC with subnets in two AZs, the instance, the CLI's
# waiters, a modification applied immediately, a DB parameter group whose
# static parameter takes effect at the reboot (checked with psql through the
# instance's loopback address), stop, start, deletion protection, delete.
#
# Needs: credentials and region in the environment; $AWS (the CLI),
# $ENDPOINT (minicloud) and $PSQL (a psql binary).
set -euo pipefail
AWS=${AWS:-aws}
aws_() { $AWS --endpoint-url "$ENDPOINT" --output text "$@"; }

# expect_error CODE cmd...: the command must fail with CODE; print the error.
expect_error() {
  local code=$1; shift
  local out
  if out=$(aws_ "$@" 2>&1); then
    echo "UNEXPECTED SUCCESS: $* (wanted $code)" >&2
    exit 1
  fi
  if ! grep -q "($code)" <<<"$out"; then
    echo "WRONG ERROR for $*: $out (wanted $code)" >&2
    exit 1
  fi
  echo "refused as expected: $code: $(sed -n 's/.*operation: //p' <<<"$out" | head -1)"
}

status() { aws_ rds describe-db-instances --db-instance-identifier app-db --query 'DBInstances[0].DBInstanceStatus'; }

# sql STATEMENT: run it as the master user on the instance's loopback address.
sql() {
  local addr
  addr=$(curl -sf "$ENDPOINT/_minicloud/health" | python3 -c 'import json,sys; print([i["loopback"] for i in json.load(sys.stdin)["rds"]["instances"] if i["id"]=="app-db"][0])')
  PGPASSWORD="$password" PGCONNECT_TIMEOUT=5 "$PSQL" -h "${addr%:*}" -p "${addr#*:}" -U app -d orders -Atc "$1"
}

# Every CLI call starts a Python process (1-2 s on a loaded machine): the
# script makes only the calls the life cycle needs, and reads statuses from
# the calls' own answers where it can.
vpc=$(aws_ ec2 create-vpc --cidr-block 10.20.0.0/16 --query Vpc.VpcId)
sn1=$(aws_ ec2 create-subnet --vpc-id "$vpc" --cidr-block 10.20.1.0/24 --availability-zone us-east-1a --query Subnet.SubnetId)
sn2=$(aws_ ec2 create-subnet --vpc-id "$vpc" --cidr-block 10.20.2.0/24 --availability-zone us-east-1b --query Subnet.SubnetId)
expect_error DBSubnetGroupDoesNotCoverEnoughAZs rds create-db-subnet-group --db-subnet-group-name one-az --db-subnet-group-description x --subnet-ids "$sn1"
aws_ rds create-db-subnet-group --db-subnet-group-name app-subnets --db-subnet-group-description "app database" --subnet-ids "$sn1" "$sn2" >/dev/null

password='first-pass1'
echo "created: $(aws_ rds create-db-instance --db-instance-identifier app-db --engine postgres --db-instance-class db.t3.micro \
  --allocated-storage 20 --master-username app --master-user-password "$password" --db-name orders \
  --db-subnet-group-name app-subnets --backup-retention-period 0 --no-publicly-accessible --query DBInstance.DBInstanceStatus)"
aws_ rds wait db-instance-available --db-instance-identifier app-db
echo "described: $(aws_ rds describe-db-instances --db-instance-identifier app-db --query 'DBInstances[0].[DBInstanceStatus,DBInstanceClass,AllocatedStorage,Endpoint.Port,DBSubnetGroup.DBSubnetGroupName,DBParameterGroups[0].DBParameterGroupName]')"
sql "CREATE TABLE items (id int PRIMARY KEY); INSERT INTO items VALUES (1), (2), (3)" >/dev/null

password='second-pass2'
echo "modifying: $(aws_ rds modify-db-instance --db-instance-identifier app-db --apply-immediately --db-instance-class db.t3.small \
  --allocated-storage 25 --master-user-password "$password" --query DBInstance.DBInstanceStatus)"
aws_ rds wait db-instance-available --db-instance-identifier app-db

aws_ rds create-db-parameter-group --db-parameter-group-name app-params --db-parameter-group-family "postgres$(sql 'SHOW server_version_num' | cut -c1-2)" --description "app" >/dev/null
aws_ rds modify-db-parameter-group --db-parameter-group-name app-params \
  --parameters "ParameterName=max_connections,ParameterValue=42,ApplyMethod=pending-reboot" \
               "ParameterName=work_mem,ParameterValue=8192,ApplyMethod=immediate" >/dev/null
expect_error InvalidParameterCombination rds modify-db-parameter-group --db-parameter-group-name app-params \
  --parameters "ParameterName=shared_buffers,ParameterValue=2048,ApplyMethod=immediate"
aws_ rds modify-db-instance --db-instance-identifier app-db --db-parameter-group-name app-params >/dev/null
sleep 1
echo "modified: $(aws_ rds describe-db-instances --db-instance-identifier app-db --query 'DBInstances[0].[DBInstanceStatus,DBInstanceClass,AllocatedStorage,DBParameterGroups[0].DBParameterGroupName,DBParameterGroups[0].ParameterApplyStatus]') max_connections=$(sql 'SHOW max_connections')"

aws_ rds reboot-db-instance --db-instance-identifier app-db >/dev/null
aws_ rds wait db-instance-available --db-instance-identifier app-db
echo "after reboot: $(aws_ rds describe-db-instances --db-instance-identifier app-db --query 'DBInstances[0].DBParameterGroups[0].ParameterApplyStatus') max_connections=$(sql 'SHOW max_connections') work_mem=$(sql 'SHOW work_mem') items=$(sql 'SELECT count(*) FROM items')"

aws_ rds stop-db-instance --db-instance-identifier app-db >/dev/null
for _ in $(seq 60); do [ "$(status)" = stopped ] && break; sleep 0.5; done
echo "stop: $(status)"
aws_ rds start-db-instance --db-instance-identifier app-db >/dev/null
aws_ rds wait db-instance-available --db-instance-identifier app-db
echo "start: items=$(sql 'SELECT count(*) FROM items')"

aws_ rds modify-db-instance --db-instance-identifier app-db --deletion-protection >/dev/null
expect_error InvalidParameterCombination rds delete-db-instance --db-instance-identifier app-db --skip-final-snapshot
aws_ rds modify-db-instance --db-instance-identifier app-db --no-deletion-protection >/dev/null
aws_ rds delete-db-instance --db-instance-identifier app-db --skip-final-snapshot >/dev/null
aws_ rds wait db-instance-deleted --db-instance-identifier app-db
aws_ rds delete-db-parameter-group --db-parameter-group-name app-params
aws_ rds delete-db-subnet-group --db-subnet-group-name app-subnets
echo "torn down"
