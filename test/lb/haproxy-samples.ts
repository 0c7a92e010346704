/** Answers captured from HAProxy 2.6.12, for the parsers' tests. */

/**
 * `show stat viaduct_servers 4 -1` with a server UP, DOWN (refused), DRAIN and MAINT; trailing
 * columns cut. Made up in the same format: c's "* " (a check under way), and row e (a quoted
 * field, an IPv6 address, "UP 1/2").
 */
export const SHOW_STAT = `# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo
viaduct_servers,a,0,0,1,1,,1,0,0,,0,,0,0,0,0,UP,1,1,0,0,0,2,0,,1,3,1,,1,,2,1,,1,L7OK,200,6,0,0,0,0,0,0,,,,0,0,0,,,,,1,,,0,0,0,0,,,,Layer7 check passed,,1,2,2,,,,127.0.0.1:33169,,http,
viaduct_servers,b,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN,1,1,0,2,1,1,1,,1,3,2,,0,,2,0,,0,L4CON,,0,0,0,0,0,0,0,,,,0,0,0,,,,,-1,Connection refused,,0,0,0,0,,,,Layer4 connection problem,,1,2,0,,,,127.0.0.1:39043,,http,
viaduct_servers,c,0,0,0,0,,0,0,0,,0,,0,0,0,0,DRAIN,1,1,0,0,0,1,0,,1,3,3,,0,,2,0,,0,* L7OK,200,0,0,0,0,0,0,0,,,,0,0,0,,,,,-1,,,0,0,0,0,,,,Layer7 check passed,,1,2,2,,,,127.0.0.1:40379,,http,
viaduct_servers,d,0,0,0,0,,0,0,0,,0,,0,0,0,0,MAINT,1,1,0,0,1,1,1,,1,3,4,,0,,2,0,,0,,,,0,0,0,0,0,0,,,,0,0,0,,,,,-1,,,0,0,0,0,,,,,,,,,,,,127.0.0.1:35567,,http,
viaduct_servers,e,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP 1/2,1,1,0,0,1,1,1,,1,3,4,,0,,2,0,,0,L7STS,503,,0,0,0,0,0,0,,,,0,0,0,,,,,-1,"HTTP status check returned code <503>, ""busy""",,0,0,0,0,,,,,,,,,,,,[::1]:17012,,http,
`;

/** `show proc` on the master CLI right after a reload: the old worker still finishing. */
export const SHOW_PROC = `#<PID>          <type>          <reloads>       <uptime>        <version>      
938             master          1 [failed: 0]   0d00h00m03s     2.6.12-1+deb12u4
# workers
948             worker          0               0d00h00m00s     2.6.12-1+deb12u4
# old workers
940             worker          1               0d00h00m02s     2.6.12-1+deb12u4
# programs

`;
