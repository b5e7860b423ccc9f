#!/usr/bin/env bash
# Builds the prototype architecture (Route 53 → Elastic IP → EC2 → RDS) with
# the AWS CLI in a fresh account, and starts the visits app on it:
#
#   VPC 10.0.0.0/16: public subnets 10.0.0.0/24, 10.0.1.0/24 and private
#   subnets 10.0.10.0/24, 10.0.11.0/24 in two AZs; an internet gateway; a
#   public route table (0.0.0.0/0 → IGW) on the public subnets, the main
#   one (local only) on the private ones; a network ACL on the public
#   subnets allowing HTTP in, SSH in from $ADMIN_CIDR, and ephemeral return
#   traffic; security groups web (80 from anywhere) and db (5432 from web);
#   RDS PostgreSQL in a DB subnet group of the private subnets, in db; an
#   AMI with the app baked in (RegisterImage of a directory holding
#   /usr/local/bin/visits: minicloud layers it over its built-in operating
#   system image, as a Packer-built AMI holds an application over its base);
#   an instance of it in the first public subnet, in web, whose user data
#   configures and starts the app; an Elastic IP on it; hosted zone $DOMAIN
#   with app.$DOMAIN → the Elastic IP.
#
# Every resource is tagged project=prototype, so teardown.sh finds them.
# Prints "output KEY=VALUE" lines at the end.
#
# Environment: ENDPOINT (default http://localhost:4566), AWS (the CLI,
# default aws), credentials and region as for any AWS CLI call; ADMIN_CIDR
# (the one CIDR allowed to SSH, default 203.0.113.10/32), DOMAIN (default
# example.test), DB_PASSWORD (default: random), IMAGE_DIR (the AMI's
# directory, where the app is built; default $XDG_CACHE_HOME or ~/.cache,
# under minicloud/examples/01-prototype/image).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
AWS=${AWS:-aws}
ENDPOINT=${ENDPOINT:-http://localhost:4566}
ADMIN_CIDR=${ADMIN_CIDR:-203.0.113.10/32}
DOMAIN=${DOMAIN:-example.test}
IMAGE_DIR=${IMAGE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/minicloud/examples/01-prototype/image}
DB_PASSWORD=${DB_PASSWORD:-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')}
DB_USER=app
DB_NAME=visits
aws_() { $AWS --endpoint-url "$ENDPOINT" --output text "$@"; }
tags() { echo "ResourceType=$1,Tags=[{Key=project,Value=prototype},{Key=Name,Value=prototype-$2}]"; }
say() { echo "[$(date +%T)] $*"; }

# poll DESCRIPTION WANT CMD...: runs CMD every second until it prints WANT
# (at most 120 times), saying every 10 s what it still sees.
poll() {
  local what=$1 want=$2 got=""; shift 2
  for i in $(seq 1 120); do
    got=$("$@")
    [ "$got" = "$want" ] && return 0
    [ $((i % 10)) -eq 0 ] && say "  $what: $got after $i s, waiting for $want"
    sleep 1
  done
  echo "$what: still $got after 120 s, want $want" >&2
  exit 1
}

case "$IMAGE_DIR" in /*) ;; *) echo "IMAGE_DIR must be an absolute path" >&2; exit 1 ;; esac
say "building the app into the AMI's directory $IMAGE_DIR (the first build compiles the app and its PostgreSQL driver: up to a minute; later ones take seconds)"
rm -rf "$IMAGE_DIR"
mkdir -p "$IMAGE_DIR/usr/local/bin"
(cd "$here/app" && CGO_ENABLED=0 go build -o "$IMAGE_DIR/usr/local/bin/visits" .)

read -r az1 az2 < <(aws_ ec2 describe-availability-zones --query 'AvailabilityZones[0:2].ZoneName')
say "network in $az1 and $az2"
vpc=$(aws_ ec2 create-vpc --cidr-block 10.0.0.0/16 --tag-specifications "$(tags vpc vpc)" --query Vpc.VpcId)
pub1=$(aws_ ec2 create-subnet --vpc-id "$vpc" --cidr-block 10.0.0.0/24 --availability-zone "$az1" --tag-specifications "$(tags subnet public-a)" --query Subnet.SubnetId)
pub2=$(aws_ ec2 create-subnet --vpc-id "$vpc" --cidr-block 10.0.1.0/24 --availability-zone "$az2" --tag-specifications "$(tags subnet public-b)" --query Subnet.SubnetId)
priv1=$(aws_ ec2 create-subnet --vpc-id "$vpc" --cidr-block 10.0.10.0/24 --availability-zone "$az1" --tag-specifications "$(tags subnet private-a)" --query Subnet.SubnetId)
priv2=$(aws_ ec2 create-subnet --vpc-id "$vpc" --cidr-block 10.0.11.0/24 --availability-zone "$az2" --tag-specifications "$(tags subnet private-b)" --query Subnet.SubnetId)

say "database security and the RDS instance first: it takes longest to become available"
web=$(aws_ ec2 create-security-group --group-name web --description "web servers: HTTP from anywhere" --vpc-id "$vpc" --tag-specifications "$(tags security-group web)" --query GroupId)
db=$(aws_ ec2 create-security-group --group-name db --description "database: PostgreSQL from web only" --vpc-id "$vpc" --tag-specifications "$(tags security-group db)" --query GroupId)
aws_ ec2 authorize-security-group-ingress --group-id "$web" --protocol tcp --port 80 --cidr 0.0.0.0/0 >/dev/null
aws_ ec2 authorize-security-group-ingress --group-id "$db" --protocol tcp --port 5432 --source-group "$web" >/dev/null
aws_ rds create-db-subnet-group --db-subnet-group-name prototype-db --db-subnet-group-description "private subnets of the prototype" \
  --subnet-ids "$priv1" "$priv2" --tags Key=project,Value=prototype >/dev/null
aws_ rds create-db-instance --db-instance-identifier prototype-db --engine postgres --db-instance-class db.t3.micro \
  --allocated-storage 20 --master-username "$DB_USER" --master-user-password "$DB_PASSWORD" --db-name "$DB_NAME" \
  --db-subnet-group-name prototype-db --vpc-security-group-ids "$db" --no-publicly-accessible \
  --tags Key=project,Value=prototype >/dev/null

say "internet gateway, public route table, network ACL"
igw=$(aws_ ec2 create-internet-gateway --tag-specifications "$(tags internet-gateway igw)" --query InternetGateway.InternetGatewayId)
aws_ ec2 attach-internet-gateway --internet-gateway-id "$igw" --vpc-id "$vpc"
rtb=$(aws_ ec2 create-route-table --vpc-id "$vpc" --tag-specifications "$(tags route-table public)" --query RouteTable.RouteTableId)
aws_ ec2 create-route --route-table-id "$rtb" --destination-cidr-block 0.0.0.0/0 --gateway-id "$igw" >/dev/null
aws_ ec2 associate-route-table --route-table-id "$rtb" --subnet-id "$pub1" >/dev/null
aws_ ec2 associate-route-table --route-table-id "$rtb" --subnet-id "$pub2" >/dev/null
# ACLs are stateless: the replies to HTTP clients (outbound to their
# ephemeral ports) and the replies to the app's own connections (inbound to
# its ephemeral ports: PostgreSQL's answers) each need an entry. The VPC's
# DNS resolver is not subject to ACLs, as in AWS.
acl=$(aws_ ec2 create-network-acl --vpc-id "$vpc" --tag-specifications "$(tags network-acl public)" --query NetworkAcl.NetworkAclId)
aws_ ec2 create-network-acl-entry --network-acl-id "$acl" --ingress --rule-number 100 --protocol tcp --port-range From=80,To=80 --cidr-block 0.0.0.0/0 --rule-action allow
aws_ ec2 create-network-acl-entry --network-acl-id "$acl" --ingress --rule-number 110 --protocol tcp --port-range From=22,To=22 --cidr-block "$ADMIN_CIDR" --rule-action allow
aws_ ec2 create-network-acl-entry --network-acl-id "$acl" --ingress --rule-number 120 --protocol tcp --port-range From=1024,To=65535 --cidr-block 0.0.0.0/0 --rule-action allow
aws_ ec2 create-network-acl-entry --network-acl-id "$acl" --egress --rule-number 100 --protocol tcp --port-range From=1024,To=65535 --cidr-block 0.0.0.0/0 --rule-action allow
read -r assoc1 assoc2 < <(aws_ ec2 describe-network-acls --filters "Name=association.subnet-id,Values=$pub1,$pub2" \
  --query "NetworkAcls[].Associations[?SubnetId=='$pub1' || SubnetId=='$pub2'].NetworkAclAssociationId[]")
aws_ ec2 replace-network-acl-association --association-id "$assoc1" --network-acl-id "$acl" >/dev/null
aws_ ec2 replace-network-acl-association --association-id "$assoc2" --network-acl-id "$acl" >/dev/null

say "Elastic IP and hosted zone"
read -r alloc eip < <(aws_ ec2 allocate-address --domain vpc --tag-specifications "$(tags elastic-ip web)" --query '[AllocationId,PublicIp]')
zone=$(aws_ route53 create-hosted-zone --name "$DOMAIN" --caller-reference "prototype-$(date +%s%N)" --query HostedZone.Id)
aws_ route53 change-resource-record-sets --hosted-zone-id "$zone" --change-batch "{\"Changes\":[{\"Action\":\"UPSERT\",\"ResourceRecordSet\":
  {\"Name\":\"app.$DOMAIN\",\"Type\":\"A\",\"TTL\":60,\"ResourceRecords\":[{\"Value\":\"$eip\"}]}}]}" >/dev/null

say "waiting for the database to be available: RDS starts a real PostgreSQL server (initdb, then the server on its subnet; usually 5 to 30 s)"
poll "prototype-db" available aws_ rds describe-db-instances --db-instance-identifier prototype-db --query 'DBInstances[0].DBInstanceStatus'
read -r db_host db_port < <(aws_ rds describe-db-instances --db-instance-identifier prototype-db --query 'DBInstances[0].Endpoint.[Address,Port]')

say "the web instance (database $db_host:$db_port)"
ami=$(aws_ ec2 register-image --name "prototype-visits-$(date +%s)" --description "the visits app over minicloud's built-in OS" \
  --architecture x86_64 --image-location "$IMAGE_DIR" --query ImageId)
# Tagged afterwards: CLI versions older than RegisterImage's TagSpecifications exist.
aws_ ec2 create-tags --resources "$ami" --tags Key=project,Value=prototype Key=Name,Value=prototype-visits
userdata=$(mktemp)
trap 'rm -f "$userdata"' EXIT
# The user data runs once; the per-boot script starts the app (baked into
# the AMI) on every later boot, after a stop/start. The password travels in
# the user data, readable by whoever may call DescribeInstanceAttribute:
# acceptable for a prototype; a real deployment would fetch it at boot from
# Secrets Manager (not in minicloud yet).
cat >"$userdata" <<UD
#!/bin/sh
set -e
umask 077
cat >/etc/visits.env <<'ENV'
DB_HOST=$db_host
DB_PORT=$db_port
DB_USER=$DB_USER
DB_PASSWORD=$DB_PASSWORD
DB_NAME=$DB_NAME
ENV
cat >/var/lib/cloud/scripts/per-boot/visits <<'SH'
#!/bin/sh
set -a; . /etc/visits.env; set +a
nohup /usr/local/bin/visits >>/var/log/visits.log 2>&1 &
SH
chmod 0755 /var/lib/cloud/scripts/per-boot/visits
/var/lib/cloud/scripts/per-boot/visits
UD
inst=$(aws_ ec2 run-instances --image-id "$ami" --instance-type t3.micro --subnet-id "$pub1" --security-group-ids "$web" \
  --user-data "file://$userdata" --tag-specifications "$(tags instance web)" --query 'Instances[0].InstanceId')
say "waiting for $inst to be running: it boots the AMI's operating system in its subnet"
poll "$inst" running aws_ ec2 describe-instances --instance-ids "$inst" --query 'Reservations[0].Instances[0].State.Name'
aws_ ec2 associate-address --allocation-id "$alloc" --instance-id "$inst" >/dev/null
say "waiting for the app to answer on http://$eip/ (the user data starts it; it creates its table in the database)"
app_status() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$eip/" || true; }
poll "the app" 200 app_status

say "built"
echo "output VPC=$vpc"
echo "output SUBNETS=$pub1,$pub2,$priv1,$priv2"
echo "output WEB_SG=$web"
echo "output DB_SG=$db"
echo "output NACL=$acl"
echo "output AMI=$ami"
echo "output INSTANCE=$inst"
echo "output EIP=$eip"
echo "output DB_ENDPOINT=$db_host:$db_port"
echo "output ZONE=$zone"
echo "output URL=http://app.$DOMAIN/"
echo "Reach it from this machine through minicloud's DNS (wherever it listens):"
echo "  curl --resolve app.$DOMAIN:80:\$(minicloud resolve app.$DOMAIN) http://app.$DOMAIN/"
echo "or directly: curl --resolve app.$DOMAIN:80:$eip http://app.$DOMAIN/ (in a browser: http://$eip/)"
