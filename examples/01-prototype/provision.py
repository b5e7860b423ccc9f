#!/usr/bin/env python3
"""Builds the prototype architecture with boto3: the same resources as
provision.sh (see there), made by an independent client.

Environment: ENDPOINT (default http://localhost:4566), credentials and
region as for any boto3 client (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_DEFAULT_REGION), ADMIN_CIDR, DOMAIN, DB_PASSWORD, IMAGE_DIR as in
provision.sh. Prints "output KEY=VALUE" lines at the end.
"""
import os
import secrets
import shutil
import subprocess
import sys
import time

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))
ENDPOINT = os.environ.get("ENDPOINT", "http://localhost:4566")
ADMIN_CIDR = os.environ.get("ADMIN_CIDR", "203.0.113.10/32")
DOMAIN = os.environ.get("DOMAIN", "example.test")
IMAGE_DIR = os.environ.get("IMAGE_DIR", os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
    "minicloud", "examples", "01-prototype", "image"))
DB_PASSWORD = os.environ.get("DB_PASSWORD") or secrets.token_hex(12)
DB_USER, DB_NAME = "app", "visits"


def say(msg):
    print(time.strftime("[%H:%M:%S]"), msg, flush=True)


def tags(kind, name):
    return [{"ResourceType": kind, "Tags": [{"Key": "project", "Value": "prototype"},
                                             {"Key": "Name", "Value": "prototype-" + name}]}]


def poll(what, want, get, tries=240, every=0.5):
    got = None
    for _ in range(tries):
        got = get()
        if got == want:
            return
        time.sleep(every)
    sys.exit(f"{what}: still {got} after {tries * every:.0f} s, want {want}")


def main():
    if not os.path.isabs(IMAGE_DIR):
        sys.exit("IMAGE_DIR must be an absolute path")
    say(f"building the app into the AMI's directory {IMAGE_DIR}")
    shutil.rmtree(IMAGE_DIR, ignore_errors=True)
    os.makedirs(os.path.join(IMAGE_DIR, "usr", "local", "bin"))
    subprocess.run(["go", "build", "-o", os.path.join(IMAGE_DIR, "usr", "local", "bin", "visits"), "."],
                   cwd=os.path.join(HERE, "app"), check=True, env={**os.environ, "CGO_ENABLED": "0"})

    ec2 = boto3.client("ec2", endpoint_url=ENDPOINT)
    rds = boto3.client("rds", endpoint_url=ENDPOINT)
    r53 = boto3.client("route53", endpoint_url=ENDPOINT)

    az1, az2 = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"][:2]]
    say(f"network in {az1} and {az2}")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=tags("vpc", "vpc"))["Vpc"]["VpcId"]

    def subnet(cidr, az, name):
        return ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=az,
                                 TagSpecifications=tags("subnet", name))["Subnet"]["SubnetId"]
    pub1 = subnet("10.0.0.0/24", az1, "public-a")
    pub2 = subnet("10.0.1.0/24", az2, "public-b")
    priv1 = subnet("10.0.10.0/24", az1, "private-a")
    priv2 = subnet("10.0.11.0/24", az2, "private-b")

    say("database security and the RDS instance first: it takes longest to become available")
    web = ec2.create_security_group(GroupName="web", Description="web servers: HTTP from anywhere", VpcId=vpc,
                                    TagSpecifications=tags("security-group", "web"))["GroupId"]
    db = ec2.create_security_group(GroupName="db", Description="database: PostgreSQL from web only", VpcId=vpc,
                                   TagSpecifications=tags("security-group", "db"))["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    ec2.authorize_security_group_ingress(GroupId=db, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "UserIdGroupPairs": [{"GroupId": web}]}])
    project = [{"Key": "project", "Value": "prototype"}]
    rds.create_db_subnet_group(DBSubnetGroupName="prototype-db", DBSubnetGroupDescription="private subnets of the prototype",
                               SubnetIds=[priv1, priv2], Tags=project)
    rds.create_db_instance(DBInstanceIdentifier="prototype-db", Engine="postgres", DBInstanceClass="db.t3.micro",
                           AllocatedStorage=20, MasterUsername=DB_USER, MasterUserPassword=DB_PASSWORD, DBName=DB_NAME,
                           DBSubnetGroupName="prototype-db", VpcSecurityGroupIds=[db], PubliclyAccessible=False, Tags=project)

    say("internet gateway, public route table, network ACL")
    igw = ec2.create_internet_gateway(TagSpecifications=tags("internet-gateway", "igw"))["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    rtb = ec2.create_route_table(VpcId=vpc, TagSpecifications=tags("route-table", "public"))["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    for sn in (pub1, pub2):
        ec2.associate_route_table(RouteTableId=rtb, SubnetId=sn)
    # Stateless: replies need their own entries (see provision.sh).
    acl = ec2.create_network_acl(VpcId=vpc, TagSpecifications=tags("network-acl", "public"))["NetworkAcl"]["NetworkAclId"]
    for egress, rule, lo, hi, cidr in ((False, 100, 80, 80, "0.0.0.0/0"), (False, 110, 22, 22, ADMIN_CIDR),
                                       (False, 120, 1024, 65535, "0.0.0.0/0"), (True, 100, 1024, 65535, "0.0.0.0/0")):
        ec2.create_network_acl_entry(NetworkAclId=acl, Egress=egress, RuleNumber=rule, Protocol="6",
                                     PortRange={"From": lo, "To": hi}, CidrBlock=cidr, RuleAction="allow")
    current = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [pub1, pub2]}])["NetworkAcls"]
    for a in [a for n in current for a in n["Associations"] if a["SubnetId"] in (pub1, pub2)]:
        ec2.replace_network_acl_association(AssociationId=a["NetworkAclAssociationId"], NetworkAclId=acl)

    say("Elastic IP and hosted zone")
    addr = ec2.allocate_address(Domain="vpc", TagSpecifications=tags("elastic-ip", "web"))
    eip = addr["PublicIp"]
    zone = r53.create_hosted_zone(Name=DOMAIN, CallerReference=f"prototype-{time.time_ns()}")["HostedZone"]["Id"]
    r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
        "Name": "app." + DOMAIN, "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": eip}]}}]})

    say("waiting for the database")
    describe_db = lambda: rds.describe_db_instances(DBInstanceIdentifier="prototype-db")["DBInstances"][0]
    poll("prototype-db", "available", lambda: describe_db()["DBInstanceStatus"])
    endpoint = describe_db()["Endpoint"]
    db_host, db_port = endpoint["Address"], endpoint["Port"]

    say(f"the web instance (database {db_host}:{db_port})")
    # The app baked into an AMI: the directory is a layer over minicloud's
    # built-in operating system image.
    ami = ec2.register_image(Name=f"prototype-visits-{int(time.time())}", Architecture="x86_64",
                             Description="the visits app over minicloud's built-in OS", ImageLocation=IMAGE_DIR,
                             TagSpecifications=tags("image", "visits"))["ImageId"]
    # Runs once; the per-boot script starts the app on every later boot.
    user_data = f"""#!/bin/sh
set -e
umask 077
cat >/etc/visits.env <<'ENV'
DB_HOST={db_host}
DB_PORT={db_port}
DB_USER={DB_USER}
DB_PASSWORD={DB_PASSWORD}
DB_NAME={DB_NAME}
ENV
cat >/var/lib/cloud/scripts/per-boot/visits <<'SH'
#!/bin/sh
set -a; . /etc/visits.env; set +a
nohup /usr/local/bin/visits >>/var/log/visits.log 2>&1 &
SH
chmod 0755 /var/lib/cloud/scripts/per-boot/visits
/var/lib/cloud/scripts/per-boot/visits
"""
    inst = ec2.run_instances(ImageId=ami, InstanceType="t3.micro", MinCount=1, MaxCount=1, SubnetId=pub1,
                             SecurityGroupIds=[web], UserData=user_data,
                             TagSpecifications=tags("instance", "web"))["Instances"][0]["InstanceId"]
    poll(inst, "running", lambda: ec2.describe_instances(InstanceIds=[inst])["Reservations"][0]["Instances"][0]["State"]["Name"])
    ec2.associate_address(AllocationId=addr["AllocationId"], InstanceId=inst)

    say("built")
    for k, v in (("VPC", vpc), ("SUBNETS", ",".join((pub1, pub2, priv1, priv2))), ("WEB_SG", web), ("DB_SG", db),
                 ("NACL", acl), ("AMI", ami), ("INSTANCE", inst), ("EIP", eip), ("DB_ENDPOINT", f"{db_host}:{db_port}"),
                 ("ZONE", zone), ("URL", f"http://app.{DOMAIN}/")):
        print(f"output {k}={v}")
    print(f"Reach it from this machine: curl --resolve app.{DOMAIN}:80:{eip} http://app.{DOMAIN}/")


if __name__ == "__main__":
    main()
