window.YTD.direct_messages.part0 = [
  {
    "dmConversation": {
      "conversationId": "29847561-1462553211098765312",
      "messages": [
        {
          "messageCreate": {
            "recipientId": "29847561",
            "reactions": [],
            "urls": [],
            "text": "Newest in part0",
            "mediaUrls": [],
            "senderId": "1462553211098765312",
            "id": "1800000000000000300",
            "createdAt": "2024-05-01T12:00:03.000Z",
            "editHistory": []
          }
        },
        {
          "messageCreate": {
            "recipientId": "1462553211098765312",
            "reactions": [],
            "urls": [
              {
                "url": "https://t.co/vid1",
                "expanded": "https://twitter.com/messages/media/1800000000000000200",
                "display": "pic.twitter.com/vid1"
              }
            ],
            "text": "Short clip https://t.co/vid1",
            "mediaUrls": [
              "https://video.twimg.com/dm_video/1800000000000000200/vid/720x1280/abc.mp4"
            ],
            "senderId": "29847561",
            "id": "1800000000000000200",
            "createdAt": "2024-05-01T12:00:02.000Z",
            "editHistory": []
          }
        }
      ]
    }
  }
]