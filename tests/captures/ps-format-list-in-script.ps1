# Saved from the ticket: output of Get-BitsTransfer -AllUsers | Format-List * on WS-FIN-02
#
    #JobId                   : 5b2f0c1e-8d3a-4e6f-9a7b-1c2d3e4f5a6b
    #DisplayName             : Contoso Agent Update
    #Description             : This is a file transfer that uses the Background Intelligent
    #                          Transfer Service (BITS).
    #TransferType            : Download
    #JobState                : TransientError
    #OwnerAccount            : NT AUTHORITY\SYSTEM
    #Priority                : Normal
    #TransientErrorCount     : 7
    #ErrorContext            : RemoteFile
    #InternalErrorCode       : -2145844844
    #ErrorDescription        : HTTP status 404: The requested URL does not exist on the server.
    #CreationTime            : 3/1/2024 9:00:00 AM
    #ModificationTime        : 3/1/2024 11:30:00 AM
    #FileList                : {https://agent.contoso.com/pkg/agent-7.2.msi -> C:\ProgramData\Agent\agent-7.2.msi}
