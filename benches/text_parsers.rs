//! Throughput of the text parsers (and of decoding) on large synthetic inputs built from
//! real-shaped lines. Run:
//! `cargo bench --bench text_parsers -- --warm-up-time 1 --measurement-time 3`
//! and read the MB/s (criterion's `thrpt`) per parser.

use bitsdoctor::ingest::decode::decode;
use bitsdoctor::parse::{bitsadmin, netsh, powershell, reg, sc, wulog, Parsed, Source};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::fmt::Write;
use std::hint::black_box;

const TARGET: usize = 8 << 20;

fn guid(i: usize) -> String {
    format!("{{{:08X}-74BF-469B-8929-{:012X}}}", i, i * 7919)
}

fn bitsadmin_text() -> String {
    let mut s = String::from(
        "\nBITSADMIN version 3.0\nBITS administration utility.\n(C) Copyright Microsoft Corp.\n\n",
    );
    let mut i = 0;
    while s.len() < TARGET {
        let _ = write!(
            s,
            "GUID: {g} DISPLAY: 'Microsoft Outlook Offline Address Book c1e4b87ef61c7bdcaf0b6ab1\n\
c0 {i}'\n\
TYPE: DOWNLOAD STATE: TRANSIENT_ERROR OWNER: CONTOSO\\user{i}\n\
PRIORITY: HIGH FILES: 0 / 1 BYTES: 0 / UNKNOWN\n\
CREATION TIME: 12/20/2018 7:26:28 PM MODIFICATION TIME: 12/20/2018 7:26:30 PM\n\
COMPLETION TIME: UNKNOWN ACL FLAGS:\n\
NOTIFY INTERFACE: UNREGISTERED NOTIFICATION FLAGS: 3\n\
RETRY DELAY: 600 NO PROGRESS TIMEOUT: 1209600 ERROR COUNT: 3\n\
PROXY USAGE: PRECONFIG PROXY LIST: NULL PROXY BYPASS LIST: NULL\n\
ERROR FILE:    https://downloadsrv/10mb.zip -> c:\\10mb.zip\n\
ERROR CODE:    0x80072ee7 - The server name or address could not be resolved\n\
ERROR CONTEXT: 0x00000005 - The error occurred while the remote file was being\n\
processed.\n\
DESCRIPTION: Microsoft Outlook Offline Address Book Directory\n\
JOB FILES:\n\
        0 / UNKNOWN WORKING https://outlook.office365.com/OAB/e9f05585-ab02-4e1a-80e2-\n\
36a7e0fcec7/oab.xml -> C:\\Users\\user\\AppData\\Local\\Microsoft\\Outlook\\oab.xml\n\
NOTIFICATION COMMAND LINE: none\n\
owner MIC integrity level: MEDIUM\n\
owner elevated ?           false\n\n\
Peercaching flags\n\
\t Enable download from peers      :false\n\
\t Enable serving to peers         :false\n\n\
CUSTOM HEADERS: NULL\n\n\
{g2} 'job {i}' SUSPENDED 0 / 0 0 / 0\n\n",
            g = guid(i),
            g2 = guid(i + 1_000_000),
        );
        i += 1;
    }
    s.push_str("Listed 2 job(s).\n");
    s
}

fn powershell_text() -> String {
    let mut s = String::new();
    let mut i = 0;
    while s.len() < TARGET {
        let _ = write!(
            s,
            "\nJobId                   : 873c4db1-4b60-4a49-bd62-{i:012x}\n\
DisplayName             : WU Client Download Job {i}\n\
Description             : This is a file transfer that uses the Background Intelligent Transfer\n\
{pad}Service (BITS).\n\
TransferType            : Download\n\
JobState                : TransientError\n\
OwnerAccount            : NT AUTHORITY\\SYSTEM\n\
Priority                : Foreground\n\
RetryInterval           : 600\n\
RetryTimeout            : 1209600\n\
TransientErrorCount     : 3\n\
ProxyUsage              : SystemDefault\n\
ErrorContext            : RemoteFile\n\
ErrorCondition          : TransientError\n\
InternalErrorCode       : -2147012889\n\
ErrorDescription        : The server name or address could not be resolved\n\
ErrorContextDescription : The error occurred while the remote file was being processed.\n\
BytesTotal              : 18446744073709551615\n\
BytesTransferred        : 0\n\
FilesTotal              : 1\n\
FilesTransferred        : 0\n\
CreationTime            : 5/9/2011 3:22:54 PM\n\
ModificationTime        : 5/9/2011 3:23:10 PM\n\
TransferCompletionTime  : 1/1/0001 12:00:00 AM\n\
FileList                : {{http://wsus.contoso.com:8530/Content/AB/0123456789ABCDEF.cab -> C:\\Windows\\x.cab}}\n\
ProxyList               :\n\
ProxyBypassList         :\n",
            pad = " ".repeat(26)
        );
        i += 1;
    }
    s
}

fn sc_text() -> String {
    let block = "[SC] QueryServiceConfig SUCCESS

SERVICE_NAME: bits
        TYPE               : 20  WIN32_SHARE_PROCESS
        START_TYPE         : 2   AUTO_START  (DELAYED)
        ERROR_CONTROL      : 1   NORMAL
        BINARY_PATH_NAME   : C:\\Windows\\System32\\svchost.exe -k netsvcs -p
        LOAD_ORDER_GROUP   :
        TAG                : 0
        DISPLAY_NAME       : Background Intelligent Transfer Service
        DEPENDENCIES       : RpcSs
                           : EventSystem
        SERVICE_START_NAME : LocalSystem

SERVICE_NAME: wuauserv
        TYPE               : 20  WIN32_SHARE_PROCESS
        STATE              : 4  RUNNING
                                (STOPPABLE, NOT_PAUSABLE, ACCEPTS_SHUTDOWN)
        WIN32_EXIT_CODE    : 0  (0x0)
        SERVICE_EXIT_CODE  : 0  (0x0)
        CHECKPOINT         : 0x0
        WAIT_HINT          : 0x0

SERVICE_NAME: bits
        TYPE               : 20  WIN32_SHARE_PROCESS
        STATE              : 1  STOPPED
        WIN32_EXIT_CODE    : 1077  (0x435)
        SERVICE_EXIT_CODE  : 0  (0x0)
        CHECKPOINT         : 0x0
        WAIT_HINT          : 0x0

[SC] QueryServiceConfig2 SUCCESS

SERVICE_NAME: bits
        RESET_PERIOD (in seconds)    : 86400
        REBOOT_MESSAGE               :
        COMMAND_LINE                 :
        FAILURE_ACTIONS              : RESTART -- Delay = 60000 milliseconds.
                                       RESTART -- Delay = 120000 milliseconds.

";
    block.repeat(TARGET / block.len() + 1)
}

fn reg_text() -> String {
    // A whole-hive style export: mostly keys we skip, the BITS keys now and then.
    let other = "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\Other]
\"Type\"=dword:00000020
\"Start\"=dword:00000003
\"ImagePath\"=hex(2):25,00,53,00,79,00,73,00,74,00,65,00,6d,00,52,00,6f,00,6f,00,\\
  74,00,25,00,5c,00,53,00,79,00,73,00,74,00,65,00,6d,00,33,00,32,00,5c,00,73,\\
  00,76,00,63,00,68,00,6f,00,73,00,74,00,2e,00,65,00,78,00,65,00,00,00
\"DisplayName\"=\"Some other service\"

";
    let bits = "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\BITS]
\"DependOnService\"=hex(7):52,00,70,00,63,00,53,00,73,00,00,00,45,00,76,00,65,00,\\
  6e,00,74,00,53,00,79,00,73,00,74,00,65,00,6d,00,00,00,00,00
\"ImagePath\"=hex(2):25,00,53,00,79,00,73,00,74,00,65,00,6d,00,52,00,6f,00,6f,00,\\
  74,00,25,00,00,00
\"Start\"=dword:00000002
\"ObjectName\"=\"LocalSystem\"
\"FailureActions\"=hex:80,51,01,00,00,00,00,00,00,00,00,00,02,00,00,00,14,00,00,00,\\
  01,00,00,00,60,ea,00,00,01,00,00,00,c0,d4,01,00

HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows\\BITS
    MaxJobsPerUser    REG_DWORD    0x3c
    JobInactivityTimeout    REG_DWORD    0x5a

";
    let mut s = String::from("Windows Registry Editor Version 5.00\n\n");
    while s.len() < TARGET {
        for _ in 0..9 {
            s.push_str(other);
        }
        s.push_str(bits);
    }
    s
}

fn netsh_text() -> String {
    let block = "\nCurrent WinHTTP proxy settings:\n\n    Proxy Server(s) :  proxy.example:8080\n    Bypass List     :  <local>;*.contoso.com\n\nCurrent WinHTTP proxy settings:\n\n    Direct access (no proxy server).\n";
    block.repeat(TARGET / block.len() + 1)
}

fn wulog_text() -> String {
    // Mostly lines we skip, as in a real log; one BITS line in ten.
    let lines = [
        "2016-10-19\t11:23:47:610\t1532\t1f40\tPT\t+++++++++++  PT: Synchronizing server updates  +++++++++++\n",
        "2016-10-19\t11:23:47:610\t1532\t1f40\tPT\t  + ServiceId = {3DA21691-E39D-4DA6-8A4B-B43877BCB1B7}, Server URL = http://wsus:8530/ClientWebService/client.asmx\n",
        "2020/01/23 15:17:51.1665050 9852  7344  ProtocolTalker  *FAILED* [8024000B] Method failed [CAgentProtocolTalker::GetCurrentComputerInfo:4599]\n",
        "2013-01-27\t10:55:33:204\t1160\t3ca0\tDnldMgr\t  * BITS job initialized, JobId = {082DB2AF-902B-4457-810C-62B6E2D3A034}\n",
        "2008-09-11 15:08:57:701 4908 738 Agent * WARNING: Exit code = 0x80244010\n",
        "2020/01/23 15:17:51.1568965 9852  628   DownloadManager BITS job {0A0F1B98-4B97-4FB3-A7CD-7EB5AD8B9D3E} failed, updateId = 4FED3B54-C444-49B9-950F-301402B8B6B2.200, hr = 0x80190194. File URL = http://wsus:8530/Content/12/ABC.cab, local path = C:\\Windows\\SoftwareDistribution\\Download\\x\n",
        "2015-10-30 17:12:54:073 880 1160 WS FATAL: OnCallFailure failed with hr=0X80244007\n",
        "2020/01/23 15:17:51.1594692 9852  628   DownloadManager *FAILED* [80244019] Error occurred while downloading update 4FED3B54-C444-49B9-950F-301402B8B6B2.200; notifying dependent calls.\n",
        "2016-10-19\t11:23:47:610\t1532\t1f40\tAgent\t  * Found 0 updates and 93 categories in search; evaluated appl. rules of 1702 out of 3018 deployed entities\n",
        "2016-10-19\t11:23:47:610\t1532\t1f40\tAU\t#############\n",
    ];
    let mut s = String::new();
    while s.len() < TARGET {
        for l in lines {
            s.push_str(l);
        }
    }
    s
}

type ParseFn = fn(&str, &Source) -> Parsed;

fn bench(c: &mut Criterion) {
    let src = Source {
        path: "bench",
        host: "HOST",
    };
    let inputs: [(&str, String, ParseFn); 6] = [
        ("bitsadmin", bitsadmin_text(), bitsadmin::parse),
        ("powershell", powershell_text(), powershell::parse),
        ("sc", sc_text(), sc::parse),
        ("reg", reg_text(), reg::parse),
        ("netsh", netsh_text(), netsh::parse),
        ("wulog", wulog_text(), wulog::parse),
    ];
    let mut g = c.benchmark_group("text_parsers");
    g.sample_size(10);
    for (name, text, parse) in &inputs {
        let p = parse(text, &src);
        assert!(
            !p.observations.is_empty() && p.warnings.is_empty(),
            "{name}: {:?}",
            p.warnings.first()
        );
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(*name, |b| b.iter(|| parse(black_box(text), &src)));
    }
    // Decoding: UTF-8 (validation + copy) and UTF-16LE with BOM + CRLF (PowerShell `>`).
    let text = &inputs[0].1;
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            text.replace('\n', "\r\n")
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("decode/utf-8", |b| {
        b.iter(|| decode(black_box(text.as_bytes())))
    });
    g.throughput(Throughput::Bytes(utf16.len() as u64));
    g.bench_function("decode/utf-16le-bom-crlf", |b| {
        b.iter(|| decode(black_box(&utf16)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
